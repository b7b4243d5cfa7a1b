"""The API's routes, one module per route group; each module exposes ``router`` (a FastAPI ``APIRouter``)."""
