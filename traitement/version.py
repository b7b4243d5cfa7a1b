"""The package's version and the version of the reference-data pack it reads.

``python -m traitement`` and ``genai-carbon --version`` print both. The package
version is written here once (``pyproject.toml`` reads it); the pack's is in
``data/pack/manifest.json`` when a pack ships.
"""

from __future__ import annotations

import json

from .paths import PACK_DIR

__version__ = "1.0.0"
"""The version of the ``genai-carbon-calculator`` distribution (``traitement`` and ``genai_carbon``)."""

PACK_MANIFEST = PACK_DIR / "manifest.json"
"""The manifest of the reference-data pack; its ``version`` key is the pack's version (e.g. ``2026.12``)."""


def data_pack_version() -> str | None:
    """The data pack's version from its manifest; None when no pack ships. A broken manifest says so, it is not hidden."""
    try:
        with open(PACK_MANIFEST, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        return f"unreadable ({PACK_MANIFEST}: {error})"
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return str(version) if version else f"unreadable ({PACK_MANIFEST}: no 'version' key)"


def version_text(program: str = "genai-carbon") -> str:
    """One line: ``genai-carbon 1.0.0 (data pack 2026.12)``, or ``(no data pack)`` before a pack ships."""
    pack = data_pack_version()
    return f"{program} {__version__} ({'no data pack' if pack is None else 'data pack ' + pack})"
