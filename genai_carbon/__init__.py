"""The applications on top of the core library ``traitement``: the command line (``cli``) and the HTTP API (``webapi``).

``traitement`` never imports this package; the entry points ``interface.py``
and ``api.py`` at the top of the repository import it. See ``docs/architecture.md``.
"""
