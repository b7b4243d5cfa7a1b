"""The load test's server: the project's app, plus FastAPI's conventional echo of a ``/calculate-raw`` body.

    uvicorn echo_app:app        # with benchmarks/ and the project root on PYTHONPATH (load_test.py does it)

``POST /echo`` is the baseline of ``benchmarks/load_test.py``: an ordinary FastAPI
route that takes the same pydantic body as ``POST /calculate-raw`` and returns it
(through its response model). Served by the same uvicorn process as the
estimate, it shows what the calculator adds to FastAPI's usual request path.
It exists only here, never in the project's app.
"""

from __future__ import annotations

from api import app
from traitement import RawRequest


@app.post("/echo", include_in_schema=False)
async def echo(body: RawRequest) -> RawRequest:
    return body
