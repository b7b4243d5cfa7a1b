"""The app, built once at import, for an ASGI server: ``uvicorn genai_carbon.webapi.asgi:app``.

Works from any folder once the package is installed (``pip install .``); in a
clone, ``uvicorn api:app`` is the same app. A bad setting or config file stops
the start with one line, without a traceback.
"""

from traitement.errors import ConfigError

from .app import create_app

try:
    app = create_app()
except ConfigError as error:
    raise SystemExit(f"api: error: {error}") from None
