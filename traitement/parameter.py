"""Method "parameter" from config names: the catalogue of models, the implied mix, the estimate and its result.

The method itself (its formulas and what its figures cover) is declared in
:mod:`traitement.methods.parameter`; this module applies it to a model of
``config/models.yaml`` and a usage profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from . import physics, reference
from .config import Config
from .core import add_ranges, per_request, reasoning_share
from .methods.parameter import COVERS_BY_MIX, GRID_MIX, IMPLIED_MIX, NAME, carbon_gco2eq, energy_wh, footprint, implied_mix_gco2eq_per_wh
from .presets import requete_from_profile

PARAMETER_METHOD = NAME
Mix = Literal["implied", "grid"]

REGRESSION_NOTE = (
    "the parameter method is a regression with R^2 <= 0.8: it leaves at least a fifth of the spread between measured models "
    "unexplained, and that error is NOT in the range shown, which covers only the model's size and the token counts"
)
INPUT_TOKENS_NOTE = (
    "input tokens are ignored by the parameter method: only output tokens count, so a long prompt adds nothing here; "
    "use method 'hardware' to count the prompt"
)


@dataclass(frozen=True)
class ParameterEstimate:
    """The footprint of ``count`` identical answers by the parameter method; ``to_dict`` shares the hardware method's keys."""

    mix: Mix
    region: str | None
    count: int
    input_tokens: int
    output_tokens: int
    energy_kwh: float
    carbon_gco2eq: float
    low: Mapping[str, float]
    high: Mapping[str, float]
    assumptions: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0

    method = PARAMETER_METHOD
    RANGED = ("energy_kwh", "carbon_gco2eq")

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by the CLI's ``--json`` and the API."""
        out: dict[str, Any] = {
            "method": self.method,
            "mix": self.mix,
            "scope": "scope 3, life cycle" if self.mix == IMPLIED_MIX else "scope 2, electricity only",
            "model": self.assumptions.get("model"),
            "region": self.region,
            "count": self.count,
            "input_tokens": self.input_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "energy_kwh": self.energy_kwh,
            "carbon_gco2eq": self.carbon_gco2eq,
        }
        add_ranges(out, self.RANGED, self.low, self.high)
        # The energy is proportional to the output tokens: the reasoning tokens cause their share of it.
        out.update(reasoning_share(self.energy_kwh * self.reasoning_tokens / self.output_tokens, self.energy_kwh))
        out["per_request"] = per_request(self.count, self.energy_kwh, self.carbon_gco2eq)
        out["covers"] = dict(COVERS_BY_MIX[self.mix])
        out["assumptions"] = dict(self.assumptions)
        out["warnings"] = list(self.warnings)
        return out


def estimate(
    output_tokens: int,
    count: int,
    active_params_b: float,
    alpha_wh_per_token_per_b_params: float,
    beta_wh_per_token: float,
    mix_gco2eq_per_wh: float,
    *,
    mix: Mix = IMPLIED_MIX,
    input_tokens: int = 0,
    region: str | None = None,
    active_params_range_b: tuple[float, float] | None = None,
    output_tokens_range: tuple[int, int] | None = None,
    assumptions: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] = (),
) -> ParameterEstimate:
    """Central value and low/high range (from the model's size range and the token range) of ``count`` answers."""
    params_low, params_high = active_params_range_b or (active_params_b, active_params_b)
    tokens_low, tokens_high = output_tokens_range or (output_tokens, output_tokens)
    coefficients = (alpha_wh_per_token_per_b_params, beta_wh_per_token, mix_gco2eq_per_wh)
    central = footprint(output_tokens, count, active_params_b, *coefficients)
    low = footprint(tokens_low, count, params_low, *coefficients)
    high = footprint(tokens_high, count, params_high, *coefficients)
    return ParameterEstimate(
        mix=mix,
        region=region,
        count=count,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        energy_kwh=central["energy_kwh"],
        carbon_gco2eq=central["carbon_gco2eq"],
        low=low,
        high=high,
        assumptions={
            "active_params_b": active_params_b,
            "alpha_wh_per_token_per_b_params": alpha_wh_per_token_per_b_params,
            "beta_wh_per_token": beta_wh_per_token,
            "mix_gco2eq_per_wh": mix_gco2eq_per_wh,
            **(assumptions or {}),
        },
        warnings=(*notes, REGRESSION_NOTE),
    )


# --- from config names -----------------------------------------------------------


def implied_mix_from_config(config: Config) -> float:
    """The implied mix (gCO2e/Wh) computed from the calibration point of ``models.yaml``."""
    method = config.models_file().parameter_method
    point = method.calibration
    return implied_mix_gco2eq_per_wh(
        point.carbon_gco2eq, point.output_tokens, point.active_params_b, method.alpha_wh_per_token_per_b_params, method.beta_wh_per_token
    )


def estimate_from_config(
    config: Config,
    model: str,
    mix: Mix = IMPLIED_MIX,
    region: str | None = None,
    profile: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    count: int = 1,
    carbon_intensity_gco2eq_per_kwh: float | None = None,
    cached_input_tokens: int | None = None,
    reasoning_tokens: int | None = None,
) -> ParameterEstimate:
    """The parameter method for a catalogue model; token counts default to the usage profile's."""
    name, entry = config.llm(model)
    method = config.models_file().parameter_method
    profile_name, requete = requete_from_profile(config, profile, input_tokens, output_tokens, count, cached_input_tokens, reasoning_tokens)
    notes = []
    grid_record: dict[str, Any] = {}
    if input_tokens is not None:
        notes.append(INPUT_TOKENS_NOTE)
    if mix == IMPLIED_MIX:
        if region is not None:
            notes.append(f"region {region!r} is not used by the implied mix (a life-cycle factor, not a grid); use mix 'grid' for a regional figure")
        region_name = None
        mix_gco2eq_per_wh = implied_mix_from_config(config)
        intensity = None
    else:
        region_name, grid = config.region(region)
        intensity = grid.require_grid() if carbon_intensity_gco2eq_per_kwh is None else carbon_intensity_gco2eq_per_kwh
        mix_gco2eq_per_wh = intensity / physics.WH_PER_KWH
        if carbon_intensity_gco2eq_per_kwh is None:
            grid_record = {"carbon_intensity_source": grid.carbon_source, "carbon_intensity_year": grid.carbon_year}
    active = entry.active_params_b
    if active.low != active.high:
        notes.append(f"{name}: size not disclosed; active parameters {active.low:g} to {active.high:g} B (central {active.value:g}), {entry.source_note}")
    tokens_low, tokens_high = requete.bounds.get("output_tokens", (requete.output_tokens, requete.output_tokens))
    calibration = method.calibration
    result = estimate(
        requete.output_tokens,
        requete.count,
        active.value,
        method.alpha_wh_per_token_per_b_params,
        method.beta_wh_per_token,
        mix_gco2eq_per_wh,
        mix=mix,
        input_tokens=requete.input_tokens,
        region=region_name,
        active_params_range_b=(active.low, active.high),
        output_tokens_range=(round(tokens_low), round(tokens_high)),
        assumptions={
            "model": name,
            "provider": entry.provider,
            "total_params_b": entry.total_params_b.value,
            "profile": profile_name,
            "carbon_intensity_gco2eq_per_kwh": intensity,
            "calibration": f"{calibration.model}, {calibration.output_tokens} tokens, {calibration.carbon_gco2eq} gCO2e ({calibration.source})",
            "source": entry.source_note,
            "model_source": f"{entry.source} ({entry.year})",
            "model_size_estimate": entry.estimate,
            "data_pack_version": reference.pack_version(),
            **grid_record,
        },
        notes=tuple(notes),
    )
    return replace(result, cached_input_tokens=requete.cached_input_tokens, reasoning_tokens=requete.reasoning_tokens)


PARAMETER_BLOCK_NOTE = (
    "the seed's parameter method (--method parameter), for comparison: one GPU's energy per output token from the model's size "
    "(no batching, no prompt), about 25x the published measurements on average (docs/validation.md); its carbon is scope 3 "
    "(Mistral AI's life-cycle calibration), not comparable to the scope 2 carbon above"
)


def parameter_block(
    config: Config,
    model: str,
    profile: str | None,
    input_tokens: int | None,
    output_tokens: int | None,
    count: int,
    cached_input_tokens: int | None = None,
    reasoning_tokens: int | None = None,
) -> dict[str, Any]:
    """The parameter method's figures for the same request, labelled, to show beside a model-aware estimate."""
    result = estimate_from_config(
        config, model, IMPLIED_MIX, None, profile, input_tokens, output_tokens, count, None, cached_input_tokens, reasoning_tokens
    ).to_dict()
    keys = ("method", "mix", "scope", "energy_kwh", "energy_kwh_min", "energy_kwh_max", "carbon_gco2eq", "carbon_gco2eq_min", "carbon_gco2eq_max")
    return {**{key: result[key] for key in keys}, "per_request": result["per_request"], "note": PARAMETER_BLOCK_NOTE}


def describe_models(config: Config, provider: str | None = None, search: str | None = None) -> dict[str, Any]:
    """The models of the data pack (filtered by provider and a search string), each with its energy per output token
    under the parameter method, as a JSON-ready dict (``models`` command, ``GET /models``)."""
    method = config.models_file().parameter_method
    mix = implied_mix_from_config(config)
    models = {}
    for entry in reference.list_models(provider=provider, search=search):
        wh_per_token = energy_wh(1, entry.active_params_b.value, method.alpha_wh_per_token_per_b_params, method.beta_wh_per_token)
        models[entry.id] = {
            **entry.model_dump(),
            "mixture_of_experts": entry.architecture == "moe",
            "energy_wh_per_output_token": wh_per_token,
            "carbon_gco2eq_per_output_token_implied_mix": wh_per_token * mix,
        }
    return {
        "data_pack_version": reference.pack_version(),
        "count": len(models),
        "parameter_method": {**method.model_dump(), "implied_mix_gco2eq_per_wh": mix},
        "models": models,
    }


__all__ = [
    "GRID_MIX",
    "IMPLIED_MIX",
    "PARAMETER_METHOD",
    "ParameterEstimate",
    "carbon_gco2eq",
    "describe_models",
    "energy_wh",
    "estimate",
    "estimate_from_config",
    "footprint",
    "implied_mix_from_config",
    "implied_mix_gco2eq_per_wh",
    "parameter_block",
]
