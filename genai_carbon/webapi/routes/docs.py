"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), offline: their scripts and styles are served by the app at ``/apidocs/``.

FastAPI's own pages load them from a CDN, so they are blank without internet;
the app turns those off (``docs_url=None, redoc_url=None``) and serves these
instead. The assets are vendored in ``genai_carbon/webapi/apidocs/`` (versions,
licences and checksums in its README.txt); the HTML names no other host, and a
Content-Security-Policy keeps the page to the app's own origin (ReDoc's script
would otherwise fetch its "powered by" logo from Redocly's CDN: the browser
skips that image instead).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).resolve().parent.parent / "apidocs"
ASSETS_URL = "/apidocs"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
"""The documentation pages load nothing from another origin (inline scripts: FastAPI's page setup; blob: ReDoc's search worker)."""

router = APIRouter()


def _own_origin_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


@router.get(DOCS_URL, include_in_schema=False)
async def swagger_ui(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - API documentation",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
        swagger_ui_parameters={"validatorUrl": None},  # no call to Swagger's online validator
    )
    return _own_origin_only(page)


@router.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get(REDOC_URL, include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    page = get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - API reference",
        redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
        with_google_fonts=False,
    )
    return _own_origin_only(page)


def assets() -> StaticFiles:
    """The vendored Swagger UI and ReDoc files, mounted at ``/apidocs``."""
    return StaticFiles(directory=ASSETS_DIR)
