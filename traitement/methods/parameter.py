"""Method "parameter", the Mistral-calibrated parameter method (GreenOps v2.0): energy from a model's active parameters.

    energy_wh = output_tokens * (alpha * active_params_b + beta)

``alpha`` and ``beta`` are EcoLogits' regression of the energy of one GPU per
output token on the active parameters (``config/models.yaml``). Carbon is
either the *implied mix*, calibrated so that Mistral Large 2 (123 B) writing
400 tokens gives Mistral AI's published life-cycle figure of 1.14 gCO2e
(scope 3: it holds manufacturing, PUE and everything else the formula leaves
out), or a grid intensity (scope 2, electricity only). See
``docs/parameter-and-measure.md``; the
estimate from config names is :func:`traitement.parameter.estimate_from_config`.

The formulas take floats or numpy arrays, like :mod:`traitement.physics`.
"""

from __future__ import annotations

from typing import Any, Final

from .. import physics
from .base import Method

NAME = "parameter"
IMPLIED_MIX: Final = "implied"
GRID_MIX: Final = "grid"

_COVERS_ENERGY = (
    "EcoLogits' regression of the energy of ONE GPU per output token (alpha x active parameters + beta); "
    "no server overhead, no PUE, no prompt (input tokens are not counted)"
)
COVERS_BY_MIX = {
    IMPLIED_MIX: {
        "energy_kwh": _COVERS_ENERGY,
        "carbon_gco2eq": "scope 3, life cycle: energy x the implied mix calibrated on Mistral AI's life-cycle figure "
        "(1.14 gCO2e for 400 tokens of Mistral Large 2); includes manufacturing and datacentre overheads; NOT a grid figure",
    },
    GRID_MIX: {
        "energy_kwh": _COVERS_ENERGY,
        "carbon_gco2eq": "scope 2, location-based: energy x the region's grid intensity; electricity only, no manufacturing",
    },
}
"""What each figure includes, by carbon factor (``mix``)."""


def energy_wh(output_tokens, active_params_b, alpha_wh_per_token_per_b_params, beta_wh_per_token):
    """Energy of one GPU for the answer, in Wh: output tokens x (alpha x active parameters in billions + beta).

    ``alpha`` (Wh per token per billion parameters) and ``beta`` (Wh per token)
    are EcoLogits' fit on ML.ENERGY Leaderboard measurements (models.yaml).
    Mixture-of-experts models pass their ACTIVE parameters.
    """
    return output_tokens * (alpha_wh_per_token_per_b_params * active_params_b + beta_wh_per_token)


def implied_mix_gco2eq_per_wh(carbon_gco2eq, output_tokens, active_params_b, alpha_wh_per_token_per_b_params, beta_wh_per_token):
    """The implied mix, in gCO2e per Wh: a published life-cycle figure over the formula's energy for the same answer.

    With Mistral Large 2 (123 B, 400 tokens, 1.14 gCO2e): 1.14 / 4.9557 Wh = 0.2300 gCO2e/Wh.
    Scope 3: it folds manufacturing, PUE and all the formula leaves out into one factor.
    """
    return carbon_gco2eq / energy_wh(output_tokens, active_params_b, alpha_wh_per_token_per_b_params, beta_wh_per_token)


def carbon_gco2eq(energy_wh_value, mix_gco2eq_per_wh):
    """Emissions in gCO2e: energy in Wh x a mix in gCO2e per Wh (the implied mix, or a grid intensity / 1000)."""
    return energy_wh_value * mix_gco2eq_per_wh


def footprint(output_tokens, count, active_params_b, alpha_wh_per_token_per_b_params, beta_wh_per_token, mix_gco2eq_per_wh) -> dict[str, Any]:
    """Totals over ``count`` requests, for scalars or numpy columns: ``energy_kwh`` and ``carbon_gco2eq``."""
    total_wh = energy_wh(output_tokens, active_params_b, alpha_wh_per_token_per_b_params, beta_wh_per_token) * count
    return {"energy_kwh": total_wh / physics.WH_PER_KWH, "carbon_gco2eq": carbon_gco2eq(total_wh, mix_gco2eq_per_wh)}


METHOD = Method(
    name=NAME,
    description="the Mistral-calibrated parameter method (GreenOps v2.0): energy per output token from the model's active parameters "
    "(EcoLogits' regression), for models behind an API",
    covers=COVERS_BY_MIX[IMPLIED_MIX],
    interfaces=frozenset({"estimate", "validate"}),
)
