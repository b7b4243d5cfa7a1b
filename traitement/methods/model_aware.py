"""Method "model-aware": the hardware method on a serving setup worked out from the model's size.

GPUs from memory, then a decode step that takes the longer of reading the
weights and KV cache at a share of the memory bandwidth and doing
2 x active parameters x batch FLOP at a share of peak compute, and a GPU draw
that rises with the batch and levels off (``docs/validation.md``). The physics
is :mod:`traitement.energy_model` (:func:`~traitement.energy_model.model_aware_modele`
builds the ``Modele``); the footprint is then the hardware method's. In an
estimate it is chosen by giving a model size (``model`` with ``hardware``, or
``active_params_b``), not by name; ``validate`` names it.
"""

from __future__ import annotations

from .base import Method
from .hardware import COVERS

NAME = "model-aware"

METHOD = Method(
    name=NAME,
    description="the hardware method on a serving setup derived from the model's size, precision, GPU board and batch",
    covers=COVERS,
    interfaces=frozenset({"validate"}),
)
