"""``POST /analytics``: the footprint of an uploaded Fluid Topics daily analytics file.

A plain ``def`` route: FastAPI runs it in its thread pool, so parsing and
estimating a file (up to about ten years of days, :data:`traitement.analytics.MAX_PERIOD_DAYS`)
never holds the event loop, and ``/health`` answers meanwhile.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile

import traitement

from .. import state
from ..guards import one_file_field, upload_name
from ..responses import json_response

PATH = "/analytics"
MAX_FILE_BYTES = traitement.MAX_UPLOAD_BYTES
"""Largest analytics file accepted (5 MiB; the real file of 2025 is 160 kB)."""

router = APIRouter()


@router.post(
    PATH,
    summary="Footprint of a Fluid Topics daily analytics file (YAML upload)",
    response_model=dict[str, Any],
    dependencies=[Depends(one_file_field)],
)
def analytics(request: Request, file: UploadFile, options: Annotated[traitement.AnalyticsOptions, Query()]) -> Response:
    """Upload the YAML as multipart field `file`; options as query parameters. Same keys as the CLI's `analytics --json`.

    422 for a file over about ten years of days (the period is capped), 413 for a file over 5 MiB.
    """
    data = file.file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise traitement.UploadTooLargeError(f"file: upload larger than {MAX_FILE_BYTES:,} bytes; allowed: at most {MAX_FILE_BYTES:,} bytes")
    name = upload_name(file.filename)
    result = traitement.analyse_analytics(state.config(request), traitement.parse_analytics(data, name), options, source=name)
    return json_response(result.to_dict())
