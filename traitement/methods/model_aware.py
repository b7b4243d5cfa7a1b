"""Method "model-aware": the hardware method on a serving setup worked out from the model's size.

The GPU energy of a decode step of B requests is the bytes it reads (the
weights it touches, the routed experts a mixture of experts' batch touches,
the batch's KV cache) at one energy per byte, plus 2 x active parameters x B
FLOP at board power / peak bf16 FLOP/s (a mixture of experts' FLOP costs more,
in proportion to its GPUs), plus a depth-bound overhead per step and per token;
a prompt costs 2 x active parameters FLOP per token; the GPUs' draw rises with
the batch and saturates, which gives the speeds. Five coefficients are fitted on
397 ML.ENERGY measurements (``docs/validation.md``). The physics is
:mod:`traitement.energy_model` (:func:`~traitement.energy_model.model_aware_modele`
builds the ``Modele``); the footprint is then the hardware method's. A model
named without its hardware (``--model NAME`` alone) gets it with the deployment
unknown: boards, GPU count, precision and batch as ranges
(:mod:`traitement.deployment`); with ``hardware`` (or ``active_params_b``) it
runs on that setup. ``validate`` names it too.
"""

from __future__ import annotations

from .base import Method
from .hardware import COVERS as HARDWARE_COVERS
from .hardware import times

NAME = "model-aware"

COVERS = {
    **HARDWARE_COVERS,
    "energy_cpu_kwh": "the host's CPUs and memory and the machines held idle in reserve: 0.431 + 0.172 of the GPUs' energy (Google 2025)",
    "energy_it_kwh": "server IT energy: GPUs + host + idle reserve (1.603 x the GPUs')",
}
"""The hardware family's figures, with the host and idle reserve charged as shares of the GPUs' energy (config/energy_model.yaml)."""

METHOD = Method(
    name=NAME,
    description="GPU energy from the model's size, precision, GPU board, GPU count and batch (fitted on 397 measurements); "
    "a model alone: the deployment as ranges, the default with a model",
    covers=COVERS,
    interfaces=frozenset({"estimate", "validate"}),
    times=times,
)
