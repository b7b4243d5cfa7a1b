"""HTTP API of the GenAI carbon calculator: ``uvicorn api:app``, then http://127.0.0.1:8000/ (web page) or /docs.

A thin entry point: the app is assembled in ``genai_carbon/webapi/``; once the
package is installed, ``uvicorn genai_carbon.webapi.asgi:app`` serves the same
app from any folder. A bad setting or config file stops the start with one
line, without a traceback.
"""

from genai_carbon.webapi.asgi import app

__all__ = ["app"]
