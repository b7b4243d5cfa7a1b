"""HTTP API of the GenAI carbon calculator: ``uvicorn api:app``, then http://127.0.0.1:8000/ (web page) or /docs.

A thin entry point: the app is assembled in ``genai_carbon/webapi/``. A bad
setting or config file stops the start with one line, without a traceback.
"""

from genai_carbon.webapi.app import create_app
from traitement.errors import ConfigError

try:
    app = create_app()
except ConfigError as error:
    raise SystemExit(f"api: error: {error}") from None
