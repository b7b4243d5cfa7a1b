"""The API's assembly: :func:`create_app` validates the settings and the config, then puts the app together.

    uvicorn api:app            # then open http://127.0.0.1:8000/ (web page) or /docs

Each route validates its input with the schemas shared with the CLI (the core's
pydantic models, as ordinary FastAPI body and query parameters), makes one call
into ``traitement`` and returns its JSON. Errors: 422 for an invalid value, 404
for an unknown name, 413 for a body over its limit, all as ``{"detail": one line
naming the field, "code": kebab-case}``; never a 500 with a stack trace. CORS is
off unless ``GENAI_CARBON_CORS_ORIGINS`` names origins.
"""

from __future__ import annotations

from fastapi import FastAPI

import traitement
from traitement.settings import Settings, load_settings
from traitement.version import __version__

from .errors import ERROR_RESPONSES, install_error_handlers
from .guards import HeadAsGet, OneValuePerParameter, known_parameters, list_parameters
from .limits import MULTIPART_OVERHEAD_BYTES, BodySizeLimit
from .routes import analytics, batch, docs, equivalences, estimate, lists, page, report, validate

ROUTERS = (lists, estimate, analytics, batch, report, validate, equivalences, page, docs)
"""The route modules, in the order their routes are matched and documented. To add a route group: add a module and list it here."""


def create_app(settings: Settings | None = None, config: traitement.Config | None = None) -> FastAPI:
    """The API, with ``settings`` (default: from the environment) and ``config`` (default: the settings' folder).

    A bad setting or config file raises a one-line :class:`~traitement.errors.ConfigError` here, at start.
    """
    settings = settings or load_settings()
    app = FastAPI(
        title="GenAI carbon calculator",
        version=__version__,
        description="Energy (kWh), carbon (gCO2e) and water (L) of generative-AI requests. "
        "Every figure names its unit and what it covers; see the `covers` key of each answer.",
        responses=ERROR_RESPONSES,
        docs_url=None,  # /docs and /redoc are served offline by routes/docs.py
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.config = config or traitement.load_config(settings.config_dir)
    install_error_handlers(app)
    upload_limits = {
        analytics.PATH: analytics.MAX_FILE_BYTES + MULTIPART_OVERHEAD_BYTES,
        batch.PATH: settings.batch_max_bytes + MULTIPART_OVERHEAD_BYTES,
        report.PATH: settings.batch_max_bytes + MULTIPART_OVERHEAD_BYTES,
        validate.PATH: validate.MAX_FILE_BYTES + MULTIPART_OVERHEAD_BYTES,
    }
    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", page.static_files(), name="static")
    app.mount(docs.ASSETS_URL, docs.assets(), name="apidocs")
    # Middleware, innermost first: body limits (413, 408), known query parameters given once (422), CORS, HEAD as GET.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, upload_limits=upload_limits, timeout_s=settings.body_timeout_s)
    routes = [route for module in ROUTERS for route in module.router.routes]
    app.add_middleware(OneValuePerParameter, lists=list_parameters(routes), known=known_parameters(routes))
    if settings.origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.origins, allow_methods=["GET", "HEAD", "POST"], allow_headers=["content-type"])
    app.add_middleware(HeadAsGet)
    return app
