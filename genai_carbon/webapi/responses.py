"""Answers: JSON serialised once (orjson), and the schemas that document them in OpenAPI.

Routes answer with :func:`json_response`: FastAPI's own path would validate
the returned dict against its return annotation before serialising it, which
costs more than the estimate. The documented shapes (``responses=ok(...)``) are
the schemas below, checked by the schema fuzzer in the tests.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from traitement.config import DatacenterConfig, ProfileConfig, Uncertain
from traitement.export import check_finite
from traitement.reference.schemas import GpuEntry, RegionEntry, SourceEntry


def json_response(data: Any, status_code: int = 200) -> Response:
    """A JSON answer, serialised once by orjson (no FastAPI re-validation of the returned dict).

    orjson writes NaN and infinity as ``null``, which would pass for a missing
    value: an answer holding ``null`` is searched for one, and a non-finite
    number is a one-line error naming where it is (it is a bug; none occurs).
    """
    body = orjson.dumps(data)
    if b"null" in body:
        check_finite(data)
    return Response(body, status_code=status_code, media_type="application/json")


class Out(BaseModel):
    """Base of the documented answers: no key beyond the documented ones."""

    model_config = ConfigDict(extra="forbid")


class PerRequestOut(Out):
    energy_kwh: float = Field(description="facility energy of one request in kWh")
    energy_wh: float = Field(description="facility energy of one request in Wh")
    carbon_gco2eq: float = Field(description="usage carbon of one request in gCO2e")
    water_l: float = Field(description="water of one request in litres")


class EstimateOut(Out):
    """One estimate: the same keys as the CLI's ``--json``."""

    method: str
    region: str | None
    count: int
    input_tokens: int
    cached_input_tokens: int = Field(description="of the input tokens, those read from the KV cache")
    output_tokens: int
    reasoning_tokens: int = Field(description="of the output tokens, those spent reasoning")
    prefill_s: float = Field(description="time to read the prompt, seconds per request")
    decode_s: float = Field(description="time to write the answer, seconds per request")
    duration_s: float = Field(description="prefill_s + decode_s, seconds per request")
    energy_gpu_kwh: float
    energy_cpu_kwh: float
    energy_it_kwh: float
    energy_kwh: float = Field(description="facility energy of all `count` requests, kWh")
    carbon_gco2eq: float = Field(description="scope 2 usage carbon of all requests, gCO2e")
    water_l: float = Field(description="water of all requests, litres")
    carbon_embodied_gco2eq: float = Field(description="scope 3 hardware share, not included in carbon_gco2eq")
    energy_gpu_kwh_min: float
    energy_gpu_kwh_max: float
    energy_it_kwh_min: float
    energy_it_kwh_max: float
    energy_kwh_min: float
    energy_kwh_max: float
    carbon_gco2eq_min: float
    carbon_gco2eq_max: float
    water_l_min: float
    water_l_max: float
    carbon_embodied_gco2eq_min: float
    carbon_embodied_gco2eq_max: float
    reasoning_energy_kwh: float = Field(description="facility energy the reasoning tokens cause (their share of the decode), kWh")
    reasoning_energy_share: float = Field(description="reasoning_energy_kwh / energy_kwh")
    per_request: PerRequestOut
    covers: dict[str, str] = Field(description="what each quantity includes, by key")
    assumptions: dict[str, Any] = Field(description="every input used: site, hardware, profile")
    warnings: list[str]
    deployment: dict[str, Any] | None = Field(
        None, description="method 'model-aware' with the hardware unknown: the boards, GPU counts, precisions and batches the range spans, and the central one"
    )
    parameter_method: dict[str, Any] | None = Field(
        None, description="with a model name and the hardware unknown: the parameter method's figures for the same request, for comparison (scope 3)"
    )


class RegionsOut(Out):
    data_pack_version: str = Field(description="the version of the reference-data pack, e.g. 2026.12")
    count: int = Field(description="how many regions match the filters")
    compared_regions: list[str] = Field(description="the regions a comparison shows (config.yaml defaults.compared_regions), by id")
    regions: dict[str, RegionEntry] = Field(description="countries, ISO 3166-2 subdivisions, cloud regions and the world, by id")
    datacenters: dict[str, DatacenterConfig]


class HardwareSetupOut(Out):
    description: str
    gpu: str
    n_gpu: int
    gpu_power_w: float
    gpu_utilisation: float
    cpu_power_w: float
    cpu_utilisation: float
    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    batch_size: float
    gpu_embodied_kgco2eq: float
    server_embodied_kgco2eq: float
    lifetime_years: float
    ranges: dict[str, list[float]] = Field(description="[min, max] of the uncertain fields")
    source: str


class GpuOut(Out):
    name: str
    power_w: float
    memory_gb: float | None = Field(description="memory in GB (null for a measured machine)")
    memory_bandwidth_tb_per_s: float | None = Field(description="memory bandwidth in TB/s (null for a measured machine)")
    bf16_tflop_per_s: float | None = Field(description="dense bf16 compute in TFLOP/s (null for a measured machine)")
    fp8_tflop_per_s: float | None = Field(description="dense fp8 compute in TFLOP/s (null: unknown, no fp8 tensor cores or a measured machine)")
    embodied_kgco2eq: Uncertain
    source: str


class HardwareOut(Out):
    hardware: dict[str, HardwareSetupOut]
    gpus: dict[str, GpuOut]
    data_pack_version: str = Field(description="the version of the reference-data pack")
    boards: dict[str, GpuEntry] = Field(description="the data pack's GPU boards matching the filters, each usable as hardware")


class SourcesOut(Out):
    data_pack_version: str = Field(description="the version of the reference-data pack")
    sources: dict[str, SourceEntry] = Field(description="every source: licence, year, files and what it feeds")


class ProfilesOut(Out):
    profiles: dict[str, ProfileConfig]


class HealthOut(Out):
    status: str


def ok(model: type[BaseModel], description: str = "Successful Response") -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that returns :func:`json_response` of ``model``'s shape."""
    return {200: {"model": model, "description": description}}
