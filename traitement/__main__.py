"""``python -m traitement``: the package's version and the data pack's, one line."""

from .version import version_text

print(version_text("traitement"))
