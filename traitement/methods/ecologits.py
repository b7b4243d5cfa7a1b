"""Method "ecologits": EcoLogits' published LLM formula, a reference row of ``validate`` (not an estimate of this project).

    GPU energy = GPUs x output_tokens x (alpha x exp(beta x 64) x active_params_b + gamma) Wh
    GPUs       = ceil(1.2 x total_params_b x 16 bits / 8 / 80 GB), rounded up to a power of two
    server     = GPU energy + latency x 1.2 kW x GPUs / 8 / 64;  facility = server x PUE

with the constants of ecologits 0.11.3 (``ecologits/impacts/llm.py``), in
``config/energy_model.yaml`` (``ecologits:``) with their source: its fixed batch
of 64 and its GPU-count rule whatever the case's GPUs, batch and precision. The
formulas are :func:`traitement.energy_model.ecologits_gpu_energy_wh` and its
neighbours; :func:`traitement.validation.predict` compares them with each case
at the case's boundary, so the table of ``validate`` shows how far a widely used
calculator is from the same measurements.
"""

from __future__ import annotations

from .base import Method

NAME = "ecologits"

COVERS = {
    "energy_gpu_kwh": "EcoLogits' regression of one GPU's energy per output token x its GPU count (fixed batch 64)",
    "energy_it_kwh": "the GPUs + EcoLogits' server share (1.2 kW per 8 GPUs over its latency model)",
    "energy_kwh": "facility: server x PUE",
}
"""What each figure of the reference includes, by the boundary it is compared at."""

METHOD = Method(
    name=NAME,
    description="EcoLogits' published LLM formula (its coefficients, fixed batch of 64 and GPU-count rule), a reference",
    covers=COVERS,
    interfaces=frozenset({"validate"}),
)
