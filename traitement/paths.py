"""Where the shipped files are found: the one helper for every path of the project's own files.

In a clone, ``config/`` and ``data/`` sit at the top of the repository, beside
this package. An installed wheel carries them as package data, mapped by
``[tool.setuptools.package-dir]`` in ``pyproject.toml`` to
``traitement/_shipped/config`` and ``traitement/_shipped/data``. This module
tells the two apart once, at import; code finds its files through these names,
never through the working directory.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
"""The folder of the ``traitement`` package."""
_INSTALLED_DIR = PACKAGE_DIR / "_shipped"
INSTALLED = (_INSTALLED_DIR / "config").is_dir()
"""True in an installed wheel (the files are package data), False in a clone or an editable install."""
PROJECT_DIR = _INSTALLED_DIR if INSTALLED else PACKAGE_DIR.parent
"""The folder holding ``config/`` and ``data/``: the repository's top folder in a clone, ``traitement/_shipped`` when installed."""
CONFIG_DIR = PROJECT_DIR / "config"
"""The shipped YAML configuration (regions, hardware, models, energy model), each value with its source."""
DATA_DIR = PROJECT_DIR / "data"
"""Sample files, validation cases, measurements and the reference-data pack (``data/pack/``)."""
PACK_DIR = DATA_DIR / "pack"
"""The reference-data pack (scripts/build_data_pack.py builds it from data/sources/)."""
SHIPPED_CASES = {
    "mlenergy-v3": DATA_DIR / "validation" / "mlenergy_v3_cases.yaml",
    "published": DATA_DIR / "validation" / "published_cases.yaml",
}
"""The validation cases files shipped with the project, by name (``GET /validation?cases=``, the method page): the 397
ML.ENERGY Leaderboard v3 configurations the model-aware mode is fitted on (the headline), and the seven ML.ENERGY
measurements with Epoch AI's GPT-4o figure."""
