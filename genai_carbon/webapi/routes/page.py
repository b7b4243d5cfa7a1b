"""The web pages: ``static/index.html`` at ``/``, ``static/method.html`` at ``/method``, and the ``static/`` folder (only it) at ``/static``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")


@router.get("/method", include_in_schema=False)
async def method_page() -> FileResponse:
    """How the calculator works: methods, formulas, covers, validation, sources (rendered from the API by static/method.js)."""
    return FileResponse(STATIC_DIR / "method.html")


def static_files() -> StaticFiles:
    """The ``static/`` folder as files (Starlette's ``StaticFiles`` refuses paths that leave it); mounted at ``/static``."""
    return StaticFiles(directory=STATIC_DIR)
