"""Where the shipped files are found: the one helper for every path of the project's own files.

``config/`` and ``data/`` sit at the top of the repository; packaging (issue 18)
maps them into the installed package, and only this module changes then. Code
finds its files through these names, never through the working directory.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
"""The repository's top folder."""
CONFIG_DIR = PROJECT_DIR / "config"
"""The shipped YAML configuration (regions, hardware, models, energy model), each value with its source."""
DATA_DIR = PROJECT_DIR / "data"
"""Sample files, validation cases and measurements."""
SHIPPED_CASES = {
    "mlenergy-v3": DATA_DIR / "validation" / "mlenergy_v3_cases.yaml",
    "published": DATA_DIR / "validation" / "published_cases.yaml",
}
"""The validation cases files shipped with the project, by name (``GET /validation?cases=``, the method page): the 397
ML.ENERGY Leaderboard v3 configurations the model-aware mode is fitted on (the headline), and the seven ML.ENERGY
measurements with Epoch AI's GPT-4o figure."""
