"""``estimate`` (the default command): one kind of request, by config names, by any method of the registry.

    python interface.py --in_tok 2000 --out_tok 500 --region usa
    python interface.py --model llama-3.1-70b --in_tok 2000 --out_tok 400 --json
    python interface.py --model mistral-large-2 --out_tok 400 --method parameter
"""

from __future__ import annotations

import argparse
from typing import Any

import traitement
from traitement import methods

from .common import SETUP_FLAGS, Command, add_setup_arguments, flagged, parse_options
from .formatting import CARBON_UNITS_G, ENERGY_UNITS_KWH, WATER_UNITS_L, carbon, emit, energy, exact, number, percent, ranged

FLAGS = {
    **SETUP_FLAGS,
    "input_tokens": "--in_tok",
    "output_tokens": "--out_tok",
    "cached_input_tokens": "--cached-input-tokens",
    "reasoning_tokens": "--reasoning-tokens",
    "count": "--count",
    "profile": "--profile",
    "method": "--method",
    "active_params_b": "--active-params-b",
    "total_params_b": "--total-params-b",
    "precision": "--precision",
    "model": "--model",
    "mix": "--mix",
}
"""The CLI flag of each request field, so an error names what the user typed."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of one estimate (also accepted with no subcommand)."""
    parser.add_argument("--in_tok", "--in-tok", "--input-tokens", dest="input_tokens", metavar="N", help="prompt length in tokens (default: the profile's)")
    parser.add_argument("--out_tok", "--out-tok", "--output-tokens", dest="output_tokens", metavar="N", help="answer length in tokens (default: the profile's)")
    parser.add_argument(
        "--cached-input-tokens", dest="cached_input_tokens", metavar="N", help="of the input tokens, those read from the KV cache (prompt caching; default 0)"
    )
    parser.add_argument(
        "--reasoning-tokens", dest="reasoning_tokens", metavar="N", help="of the output tokens, those spent reasoning before the answer (default 0)"
    )
    parser.add_argument("--count", default="1", metavar="N", help="number of such requests (default: 1)")
    add_setup_arguments(parser)
    parser.add_argument("--profile", help="usage profile giving default token counts: chatbot, completion, translation (default: chatbot)")
    parser.add_argument(
        "--method",
        help=f"{methods.help_text('estimate')}; default: {methods.model_aware.NAME} with --model and no --hardware, else {methods.hardware.NAME}",
    )
    parser.add_argument(
        "--model",
        help="LLM of the catalogue, e.g. llama-3.1-70b, gpt-4o; see 'models'. Alone: the model-aware method with the deployment as ranges; "
        "with --hardware: on that hardware",
    )
    parser.add_argument("--mix", help="method parameter's carbon factor: implied (scope 3 life cycle, default) or grid (scope 2, the --region grid)")
    parser.add_argument(
        "--active-params-b", metavar="N", help="model size in billions of active parameters: GPUs, speeds and draw from the model-aware energy model"
    )
    parser.add_argument("--total-params-b", metavar="N", help="all parameters in billions, for mixture-of-experts models (default: the active ones)")
    parser.add_argument("--precision", help="weight precision: bf16, fp16, fp8, int8, mxfp4, int4 (default: bf16)")


def run(args: argparse.Namespace) -> int:
    request = parse_options(traitement.NamedRequest, args, FLAGS)
    result = flagged(lambda: traitement.estimate_named(traitement.load_config(), request), FLAGS).to_dict()
    if result["method"] == methods.parameter.NAME:
        return emit(args, result, lambda: format_parameter(result))
    if "deployment" in result:
        return emit(args, result, lambda: format_model_estimate(result))
    return emit(args, result, lambda: format_estimate(result))


def _tokens(result: dict[str, Any]) -> str:
    """``2,000 tokens in (1,500 cached), 400 out (200 reasoning)``."""
    cached = f" ({number(result['cached_input_tokens'])} cached)" if result.get("cached_input_tokens") else ""
    reasoning = f" ({number(result['reasoning_tokens'])} reasoning)" if result.get("reasoning_tokens") else ""
    return f"{number(result['input_tokens'])} tokens in{cached}, {number(result['output_tokens'])} out{reasoning}"


def _reasoning_line(result: dict[str, Any], per: str) -> list[str]:
    if not result.get("reasoning_tokens"):
        return []
    share = percent(result["reasoning_energy_share"])
    return [f"  reasoning  {energy(result['reasoning_energy_kwh'])}{per}, {share} of the energy (the reasoning tokens' decode)"]


def format_model_estimate(result: dict[str, Any]) -> str:
    """A model-aware estimate with the deployment unknown: the central deployment in words, the ranges, the parameter method beside."""
    a = result["assumptions"]
    plan = result["deployment"]
    count = result["count"]
    per = " per request" if count == 1 else f" for {number(count)} requests"
    batch = plan["batch_size"]
    gpus = plan["gpu_count"] if isinstance(plan["gpu_count"], str) else f"{plan['gpu_count']} GPUs"
    lines = [f"GenAI footprint, method '{result['method']}' (deployment {'unknown' if not plan['known'] else 'partly known'}: ranges)"]
    lines += [f"  warning    {w}" for w in result["warnings"]]
    model = a.get("model") or "model size given"
    lines += [
        f"  model      {model}: {exact(a['active_params_b'])}B active / {exact(a['total_params_b'])}B total",
        f"  request    {_tokens(result)}, x{number(count)}" + (f"  (profile {a['profile']})" if a.get("profile") else ""),
        f"  central    {plan['central']}: decode {number(a['decode_tokens_per_s'])} tokens/s per request, GPUs at {percent(a['gpu_utilisation'])} draw",
        f"  range      boards {', '.join(plan['boards'])}; {gpus}; {', '.join(plan['precisions'])}; "
        f"batch {number(batch['min'])} to {number(batch['max'])}; x/÷ {exact(plan['residual_factor'])} (the fit's residual)",
        f"  site       {_place(a)} grid {exact(a['carbon_intensity_gco2eq_per_kwh'])} gCO2e/kWh{_year(a)}, "
        f"datacentre {a['datacenter']} (PUE {exact(a['pue'])})",
        f"  energy     {ranged(result, 'energy_kwh', ENERGY_UNITS_KWH, per)}",
        f"             GPU {ranged(result, 'energy_gpu_kwh', ENERGY_UNITS_KWH)}; "
        f"x {exact(1 + a['host_share_of_gpu_energy'])} host and idle reserve, x PUE = facility",
        f"  carbon     {ranged(result, 'carbon_gco2eq', CARBON_UNITS_G, per)}  [scope 2, location-based]",
        f"  embodied   {ranged(result, 'carbon_embodied_gco2eq', CARBON_UNITS_G, per)}  [scope 3 hardware share, not in carbon]",
        f"  water      {ranged(result, 'water_l', WATER_UNITS_L, per)}",
        *_reasoning_line(result, per),
        f"  per request: {energy(result['per_request']['energy_kwh'], 4)}, {carbon(result['per_request']['carbon_gco2eq'], 4)}",
    ]
    block = result.get("parameter_method")
    if block:
        lines.append(
            f"  parameter method (for comparison, --method parameter): {energy(block['energy_kwh'])}, {carbon(block['carbon_gco2eq'])}"
            f"{per} [scope 3 life cycle; about 25x the published measurements]"
        )
    if a.get("data_pack_version"):
        lines.append(f"  data       pack {a['data_pack_version']} (every figure's source and year: --json, and the 'sources' command)")
    return "\n".join(lines)


def format_estimate(result: dict[str, Any]) -> str:
    """A readable summary of one estimate's JSON dict."""
    a = result["assumptions"]
    count = result["count"]
    per = " per request" if count == 1 else f" for {number(count)} requests"
    lines = [f"GenAI footprint, method '{result['method']}'"]
    lines += [f"  warning    {w}" for w in result["warnings"]]
    if a.get("energy_model"):
        lines.append(
            f"  model      {exact(a['active_params_b'])}B active / {exact(a['total_params_b'])}B total, {a['precision']}: "
            f"decode step {number(a['decode_step_s'] * 1000)} ms reading {number(a['weight_read_gb'])} GB of weights"
            f" + {number(a['kv_cache_read_gb'])} GB of KV cache (model-aware energy model)"
        )
    lines += [
        f"  request    {_tokens(result)}, x{number(count)}" + (f"  (profile {a['profile']})" if a.get("profile") else ""),
        f"  hardware   {a.get('hardware', 'custom')}: {a['n_gpu']} GPU x {exact(a['gpu_power_w'])} W at {percent(a['gpu_utilisation'])} draw, "
        f"CPU {exact(a['cpu_power_w'])} W at {percent(a['cpu_utilisation'])}, batch {number(a['batch_size'])}",
        f"  site       {_place(a)} grid {exact(a['carbon_intensity_gco2eq_per_kwh'])} gCO2e/kWh{_year(a)}, "
        f"datacentre {a['datacenter']} (PUE {exact(a['pue'])})",
        f"  time       prefill {number(result['prefill_s'])} s + decode {number(result['decode_s'])} s = {number(result['duration_s'])} s per request"
        f" ({number(a['prefill_tokens_per_s'])} and {number(a['decode_tokens_per_s'])} tokens/s)",
        f"  energy     {ranged(result, 'energy_kwh', ENERGY_UNITS_KWH, per)}",
        f"             GPU {energy(result['energy_gpu_kwh'])} + CPU {energy(result['energy_cpu_kwh'])}"
        f" = IT {energy(result['energy_it_kwh'])}, x PUE {exact(a['pue'])} = facility",
        f"  carbon     {ranged(result, 'carbon_gco2eq', CARBON_UNITS_G, per)}  [scope 2, location-based]",
        f"  embodied   {ranged(result, 'carbon_embodied_gco2eq', CARBON_UNITS_G, per)}  [scope 3 hardware share, not in carbon]",
        f"  water      {ranged(result, 'water_l', WATER_UNITS_L, per)}",
        *_reasoning_line(result, per),
        f"  per request: {energy(result['per_request']['energy_kwh'], 4)}, {carbon(result['per_request']['carbon_gco2eq'], 4)}",
    ]
    if a.get("data_pack_version"):
        lines.append(f"  data       pack {a['data_pack_version']} (every figure's source and year: --json, and the 'sources' command)")
    return "\n".join(lines)


def _place(a: dict[str, Any]) -> str:
    """``United States (USA)``, or the label alone for a site given by its numbers."""
    return f"{a['region_name']} ({a['region']})" if a.get("region_name") else str(a["region"])


def _year(a: dict[str, Any]) -> str:
    return f" ({a['carbon_intensity_source']} {a['carbon_intensity_year']})" if a.get("carbon_intensity_year") else ""


def format_parameter(result: dict[str, Any]) -> str:
    """A readable summary of a parameter-method estimate."""
    a = result["assumptions"]
    count = result["count"]
    per = " per request" if count == 1 else f" for {number(count)} requests"
    if result["mix"] == methods.parameter.IMPLIED_MIX:
        factor = (
            f"implied mix {number(a['mix_gco2eq_per_wh'], 4)} gCO2e/Wh  [SCOPE 3, life cycle: calibrated on Mistral AI's 1.14 g for 400 tokens of Large 2]"
        )
    else:
        factor = f"{result['region']} grid {exact(a['carbon_intensity_gco2eq_per_kwh'])} gCO2e/kWh  [SCOPE 2, electricity only]"
    share = percent(result["reasoning_energy_share"])
    reasoning = f" ({number(result['reasoning_tokens'])} reasoning, {share} of the energy)" if result["reasoning_tokens"] else ""
    lines = [f"GenAI footprint, method '{methods.parameter.NAME}' ({result['scope']})"]
    lines += [f"  warning    {w}" for w in result["warnings"]]
    lines += [
        f"  model      {result['model']} ({a['provider']}): {exact(a['active_params_b'])} B active of {exact(a['total_params_b'])} B",
        f"  request    {number(result['output_tokens'])} tokens out{reasoning} (input tokens not counted), x{number(count)}",
        f"  formula    tokens x ({exact(a['alpha_wh_per_token_per_b_params'])} Wh x {exact(a['active_params_b'])} B + {exact(a['beta_wh_per_token'])} Wh)",
        f"  energy     {ranged(result, 'energy_kwh', ENERGY_UNITS_KWH, per)}",
        f"  carbon     {ranged(result, 'carbon_gco2eq', CARBON_UNITS_G, per)}",
        f"  factor     {factor}",
    ]
    return "\n".join(lines)


COMMANDS = [
    Command(
        "estimate",
        "estimate one kind of request (the default command)",
        add_arguments,
        run,
        examples=(
            "--in_tok 2000 --out_tok 500 --region usa",
            "--profile chatbot --count 100000 --region germany --json",
            "--model llama-3.1-70b --in_tok 2000 --out_tok 400",
            "--model gpt-4o --in_tok 2000 --cached-input-tokens 1500 --out_tok 400 --reasoning-tokens 200",
            "--model mistral-large-2 --out_tok 400 --method parameter",
            "--model llama-3.1-70b --hardware h100 --batch-size 64 --in_tok 2000 --out_tok 400",
        ),
    )
]
