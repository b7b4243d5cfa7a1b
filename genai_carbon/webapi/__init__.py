"""The HTTP API: :func:`~genai_carbon.webapi.app.create_app` assembles it from one module per route group.

    uvicorn api:app

``routes/`` holds the routes (one module per group, each an ``APIRouter``),
``limits`` the body-size limit, ``errors`` the one error shape and its
handlers, ``responses`` the JSON answer and its documented schemas, ``static/``
the web page. To add a route group: add a module to ``routes/`` and list it in
``app.ROUTERS``.
"""
