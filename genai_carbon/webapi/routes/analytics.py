"""``POST /analytics``: the footprint of an uploaded Fluid Topics daily analytics file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, UploadFile

import traitement

from .. import state

PATH = "/analytics"
MAX_FILE_BYTES = traitement.MAX_UPLOAD_BYTES
"""Largest analytics file accepted (5 MiB; the real file of 2025 is 160 kB)."""

router = APIRouter()


@router.post(PATH, summary="Footprint of a Fluid Topics daily analytics file (YAML upload)")
async def analytics(request: Request, file: UploadFile, options: Annotated[traitement.AnalyticsOptions, Query()]) -> dict[str, Any]:
    """Upload the YAML as multipart field `file`; options as query parameters. Same keys as the CLI's `analytics --json`."""
    data = await file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise traitement.UploadTooLargeError(f"file: upload larger than {MAX_FILE_BYTES:,} bytes; allowed: at most {MAX_FILE_BYTES:,} bytes")
    name = file.filename or "upload"
    result = traitement.analyse_analytics(state.config(request), traitement.parse_analytics(data, name), options, source=name)
    return result.to_dict()
