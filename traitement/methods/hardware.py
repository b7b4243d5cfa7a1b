"""Method "hardware" (the default): power x time of a serving setup.

    prefill_s     = input_tokens  / prefill_tokens_per_s
    decode_s      = output_tokens / decode_tokens_per_s
    energy_it_kwh = (GPU + CPU power) x (prefill_s + decode_s) / batch_size / 3.6e6

then PUE, grid intensity, water and embodied carbon: :func:`traitement.footprint`
applies :func:`times` and the shared formulas of :mod:`traitement.physics`.
"""

from __future__ import annotations

from typing import Any

from .. import physics
from .base import Method

NAME = "hardware"

COVERS = {
    "energy_gpu_kwh": "GPU boards only",
    "energy_cpu_kwh": "host CPUs only",
    "energy_it_kwh": "server IT energy: GPUs + host CPUs",
    "energy_kwh": "facility: server IT energy x PUE (cooling, power conversion)",
    "carbon_gco2eq": "scope 2, location-based: facility energy x grid intensity; usage only",
    "carbon_embodied_gco2eq": "scope 3: share of the GPUs' and server's manufacturing; NOT included in carbon_gco2eq",
    "water_l": "on-site cooling water (x IT energy) + off-site water of electricity generation (x facility energy)",
}
"""What each figure of a footprint includes (the ``covers`` key of every answer of the hardware family)."""


def times(input_tokens: Any, output_tokens: Any, modele: Any) -> tuple[Any, Any, Any, Any]:
    """Prefill reads the prompt in parallel, decode writes one token at a time; ``batch_size`` requests share the server."""
    prefill_s = physics.prefill_duration_s(input_tokens, modele.prefill_tokens_per_s)
    decode_s = physics.decode_duration_s(output_tokens, modele.decode_tokens_per_s)
    return prefill_s, decode_s, prefill_s + decode_s, modele.batch_size


METHOD = Method(
    name=NAME,
    description="power x time of a serving setup (prefill, then decode; a batch shares the server), the default",
    covers=COVERS,
    interfaces=frozenset({"estimate", "raw", "batch"}),
    times=times,
)
