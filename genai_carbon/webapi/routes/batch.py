"""``POST /batch``: estimate an uploaded log of requests.

The upload is a multipart form with one file field (``file``), or the raw file
as the body; its format is recognised from its content (the providers' usage
exports), else from the file's extension, or given by ``?format=``. It is counted while it
arrives: past the size limit (the setting ``GENAI_CARBON_BATCH_MAX_BYTES``,
default 50 MiB) the answer is 413 and the rest is not read. The estimate
(:func:`traitement.logs.estimate_log`, DuckDB) runs in a worker thread, off the
event loop, so the server keeps answering meanwhile; the caps of the settings
(``GENAI_CARBON_BATCH_*``) answer 413. The answer has the same keys as
``python interface.py batch FILE --json``; bad rows answer 422 naming their lines.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException, MultiPartParser

from traitement import methods
from traitement.base import OneOf
from traitement.errors import InvalidInputError, UploadTooLargeError
from traitement.logs import AUTO, FORMATS, GROUP_BY, Limits, estimate_log
from traitement.settings import variable

from .. import state
from ..guards import check_form_fields
from ..limits import MULTIPART_OVERHEAD_BYTES
from ..responses import json_response

PATH = "/batch"
T = TypeVar("T")
router = APIRouter()
BATCH_METHODS = (AUTO, *methods.names("batch"))
METHOD_HELP = (
    f"'{AUTO}' (the default): rows with a model get that model's estimate (model-aware, deployment unknown), the others the hardware preset's; "
    f"or one method for every row: {methods.help_text('batch')}"
)
_GROUP_BY_HELP = f"sum per value of these columns (repeat or comma-separate): {', '.join(GROUP_BY)}"


def _too_large(limit: int) -> UploadTooLargeError:
    return UploadTooLargeError(f"upload larger than the limit of {limit:,} bytes (set {variable('batch_max_bytes')} to change it)")


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The body as it arrives; stops with 413 once more than ``limit`` bytes came."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit)
        yield chunk


UPLOAD_BODY = {  # the upload's body in the OpenAPI schema (the route reads it as a stream, not as a parameter)
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}},
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _split(values: Any) -> Any:
    """``?group_by=region,month`` as ``?group_by=region&group_by=month``; names are case-insensitive."""
    if isinstance(values, list):
        return [key.strip().lower() for value in values for key in str(value).split(",") if key.strip()]
    return values


GroupBy = Annotated[list[Annotated[str, OneOf(GROUP_BY)]], BeforeValidator(_split)]


@router.post(PATH, summary="Estimate an uploaded log of requests (CSV, JSON Lines, Parquet)", openapi_extra=UPLOAD_BODY, response_model=dict[str, Any])
async def batch(
    request: Request,
    group_by: Annotated[GroupBy, Query(description=_GROUP_BY_HELP)] = [],  # noqa: B006 - FastAPI copies defaults
    hardware: Annotated[str | None, Query(max_length=64, description="hardware of rows without one (default from config)")] = None,
    region: Annotated[str | None, Query(max_length=64, description="region of rows without one (default from config)")] = None,
    datacenter: Annotated[str | None, Query(max_length=64, description="datacentre of rows without one (default from config)")] = None,
    method: Annotated[Annotated[str, OneOf(BATCH_METHODS)], Query(description=METHOD_HELP)] = AUTO,
    format: Annotated[  # noqa: A002
        Annotated[str, OneOf(tuple(FORMATS))] | None, Query(description=f"{', '.join(FORMATS)}; default: recognised from the content, else the file name")
    ] = None,
) -> Response:
    """Same keys as the CLI's `batch --json`. 413 past the size limit, 422 for bad rows (with their line numbers)."""
    result = await on_upload(
        request, "genai-batch-", format, estimate_log, hardware=hardware, region=region, datacenter=datacenter, method=method, group_by=group_by
    )
    return json_response(result)  # one check that the answer is finite JSON, as every route's


async def on_upload(request: Request, prefix: str, fmt: str | None, work: Callable[..., T], **options: Any) -> T:
    """``work(path, config, fmt=, source=, limits=, **options)`` on the uploaded file, saved in a temporary folder
    (``prefix``) and run in a worker thread: the upload routes' one path. A declared length past the limit is 413 at once."""
    settings = state.settings(request)
    limit = settings.batch_max_bytes
    declared = request.headers.get("content-length")
    envelope = MULTIPART_OVERHEAD_BYTES if request.headers.get("content-type", "").startswith("multipart/form-data") else 0
    if declared and declared.isdigit() and int(declared) > limit + envelope:
        raise _too_large(limit)
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        name, path = await _save_upload(request, limit, Path(folder), fmt)
        return await run_in_threadpool(
            work, path, state.config(request), fmt=fmt, source=name, limits=Limits.from_settings(settings), **options
        )


async def _save_upload(request: Request, limit: int, folder: Path, fmt: str | None) -> tuple[str, Path]:
    """Write the uploaded file into ``folder``; returns its name and path."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        try:  # the envelope around the file does not count against the file's limit; the file's own bytes do, below
            form = await MultiPartParser(request.headers, _limited(request, limit + MULTIPART_OVERHEAD_BYTES), max_files=1, max_fields=10).parse()
        except MultiPartException as error:
            raise InvalidInputError(f"file: {error.message}") from None
        check_form_fields(form)  # region=france sent in the form, not the query, was silently ignored
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInputError("file: missing; send the log as a multipart file field named 'file'")
        name = Path(upload.filename or "upload").name
        suffix = Path(name).suffix.lower()
        path = folder / ("upload" + (suffix if fmt is None and suffix.isascii() and suffix[1:].isalnum() else f".{fmt}" if fmt else ""))
        written = 0
        with open(path, "wb") as out:
            while chunk := await upload.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise _too_large(limit)
                out.write(chunk)
        await upload.close()
        return name, path
    path = folder / (f"upload.{fmt}" if fmt else "upload")  # no format given: recognised from the content, or an error naming the formats tried
    with open(path, "wb") as out:
        async for chunk in _limited(request, limit):
            out.write(chunk)
    return path.name, path
