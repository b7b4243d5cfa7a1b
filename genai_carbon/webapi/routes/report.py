"""``POST /report``: the accounting report of an uploaded request log or usage export.

The upload is handled as ``POST /batch``'s (a multipart form with one file
field ``file``, or the raw file as the body; counted while it arrives, 413 past
``GENAI_CARBON_BATCH_MAX_BYTES``); the options are query parameters. The answer
has the keys of ``python interface.py report FILE --json``; with
``?output=csv`` or ``Accept: text/csv`` it is the CSV of ``--csv`` (one row
per line of the report). ``?format=`` is the uploaded file's format, as for
``POST /batch``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from traitement.accounting import Report, account_log, report_csv, report_options
from traitement.base import NUMBER, OneOf
from traitement.logs import AUTO, FORMATS, GROUP_BY

from ..responses import json_response
from .batch import BATCH_METHODS, METHOD_HELP, UPLOAD_BODY, GroupBy, on_upload

PATH = "/report"
router = APIRouter()
CSV_TYPE = "text/csv"


def prefers_csv(accept: str) -> bool:
    """Whether an ``Accept`` header asks for CSV: ``text/csv`` with a quality above 0 and at least that of JSON
    (``application/json``, ``application/*`` or ``*/*``). ``text/csv;q=0`` refuses CSV (RFC 9110, 12.5.1); a substring
    test answered CSV to it, and to ``text/csv-schema``."""
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media, *parameters = (item.strip() for item in part.split(";"))
        q = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # a quality that is not a number: that media type is not asked for
        media = media.lower()
        quality[media] = max(quality.get(media, 0.0), q)
    csv = quality.get(CSV_TYPE, 0.0)
    return csv > 0 and csv >= max(quality.get(media, 0.0) for media in ("application/json", "application/*", "*/*"))

BY_HELP = f"the report's lines (repeat or comma-separate): {', '.join(GROUP_BY)}; default: month, model, provider keys"


@router.post(
    PATH,
    summary="Accounting report of an uploaded log or usage export: location- and market-based totals, embodied apart",
    openapi_extra=UPLOAD_BODY,
    response_model=Report,
    responses={200: {"content": {CSV_TYPE: {"schema": {"type": "string"}}}, "description": "the report as JSON, or as CSV (?output=csv)"}},
)
async def report(
    request: Request,
    market_factor_gco2eq_per_kwh: Annotated[
        float | None,
        Query(ge=0, le=2000, description="contractual emission factor for the market-based figure, gCO2e/kWh, from 0 to 2000; absent: none"),
        NUMBER,
    ] = None,
    by: Annotated[GroupBy | None, Query(description=BY_HELP)] = None,
    served: Annotated[Literal["api", "self-hosted"] | None, Query(description="api or self-hosted for every row; default: from the file")] = None,
    hardware: Annotated[str | None, Query(max_length=64, description="hardware of rows without one (default from config)")] = None,
    region: Annotated[str | None, Query(max_length=64, description="region of rows without one, for the location-based figure (default from config)")] = None,
    datacenter: Annotated[str | None, Query(max_length=64, description="datacentre of rows without one (default from config)")] = None,
    method: Annotated[Annotated[str, OneOf(BATCH_METHODS)], Query(description=METHOD_HELP)] = AUTO,
    format: Annotated[  # noqa: A002 - the same parameter as POST /batch's
        Annotated[str, OneOf(tuple(FORMATS))] | None, Query(description=f"the file's format: {', '.join(FORMATS)}; default: recognised from the content")
    ] = None,
    output: Annotated[Literal["json", "csv"] | None, Query(description="json or csv; default: csv when Accept asks for text/csv, else json")] = None,
) -> Response:
    """The keys of the CLI's `report --json`, or its CSV. 413 past the size limit, 422 for bad input (naming the field or the rows)."""
    options = report_options(market_factor_gco2eq_per_kwh, by, served)
    result = await on_upload(
        request, "genai-report-", format, account_log, options=options, hardware=hardware, region=region, datacenter=datacenter, method=method
    )
    wants_csv = output == "csv" or (output is None and prefers_csv(request.headers.get("accept", "")))
    if wants_csv:
        return Response(report_csv(result), media_type=f"{CSV_TYPE}; charset=utf-8")
    return json_response(result.model_dump())
