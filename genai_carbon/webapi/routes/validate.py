"""``POST /validate`` and ``GET /validation``: the methods of the registry against published measurements (an uploaded cases file, or the shipped one).

Plain ``def`` routes: FastAPI runs them in its thread pool, so estimating up to
:data:`traitement.validation.MAX_CASES` cases (and refitting, with ``cross_validate``)
never holds the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile

from traitement import methods
from traitement.base import OneOf
from traitement.errors import UploadTooLargeError
from traitement.paths import SHIPPED_CASES

from .. import state
from ..guards import one_file_field, upload_name
from ..responses import json_response

PATH = "/validate"
MAX_FILE_BYTES = 1_000_000
"""Largest cases file accepted (about 1,700 cases of the ML.ENERGY kind)."""

router = APIRouter()
ValidationMethod = Annotated[str, methods.offered("validate")]
_CASES_HELP = (
    "a cases file shipped with the project: 'mlenergy-v3' (the 397 ML.ENERGY Leaderboard v3 configurations the model-aware mode is fitted on, "
    "the default) or 'published' (seven ML.ENERGY measurements and Epoch AI's GPT-4o figure)"
)


@router.post(
    PATH,
    summary="Compare the methods with published measurements (a cases YAML upload)",
    response_model=dict[str, Any],
    dependencies=[Depends(one_file_field)],
)
def validate(
    request: Request,
    file: Annotated[UploadFile, File(description="cases YAML, the schema of data/validation/published_cases.yaml")],
    method: Annotated[list[ValidationMethod] | None, Query(description=f"{methods.help_text('validate')} (default: all, the first is the headline)")] = None,
    cross_validate: Annotated[bool, Query(description="also refit the model-aware coefficients without each model in turn (leave one model out)")] = False,
) -> Response:
    """Per case: predicted and published Wh per request and their ratio; per method: error factor and worst case; same keys as `validate --json`."""
    from traitement.energy_model import load_energy_model
    from traitement.validation import parse_cases_text
    from traitement.validation import validate as run_validation

    content = file.file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise UploadTooLargeError(f"file: larger than {MAX_FILE_BYTES:,} bytes; allowed: at most {MAX_FILE_BYTES:,} bytes", code="file-too-large")
    config = state.config(request)
    cases = parse_cases_text(content, upload_name(file.filename))
    chosen = tuple(method or methods.names("validate"))
    return json_response(run_validation(cases, config, load_energy_model(config.directory), chosen, cross_validate=cross_validate))


@router.get("/validation", summary="The methods against the published measurements shipped with the project", response_model=dict[str, Any])
def validation(
    request: Request,
    cases: Annotated[str, OneOf(tuple(SHIPPED_CASES)), Query(description=_CASES_HELP)] = "mlenergy-v3",
    method: Annotated[list[ValidationMethod] | None, Query(description=f"{methods.help_text('validate')} (default: all, the first is the headline)")] = None,
    cross_validate: Annotated[bool, Query(description="also refit the model-aware coefficients without each model in turn (leave one model out)")] = False,
) -> Response:
    """`POST /validate` on a shipped cases file (for the method page): the same keys, and `source`, the file."""
    from traitement.energy_model import load_energy_model
    from traitement.validation import load_cases
    from traitement.validation import validate as run_validation

    config = state.config(request)
    chosen = tuple(method or methods.names("validate"))
    result = run_validation(load_cases(SHIPPED_CASES[cases]), config, load_energy_model(config.directory), chosen, cross_validate=cross_validate)
    return json_response({"source": f"data/validation/{SHIPPED_CASES[cases].name}", **result})
