"""What the app holds for its routes: the settings and the configuration, read and validated once, at start."""

from __future__ import annotations

from fastapi import Request

import traitement
from traitement.settings import Settings


def config(request: Request) -> traitement.Config:
    """The app's configuration (loaded by :func:`~genai_carbon.webapi.app.create_app`)."""
    return request.app.state.config


def settings(request: Request) -> Settings:
    """The app's settings (validated by :func:`~genai_carbon.webapi.app.create_app`)."""
    return request.app.state.settings
