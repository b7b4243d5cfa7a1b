"""Command-line interface of the GenAI carbon calculator.

    python interface.py --in_tok 2000 --out_tok 500 --region usa
    python interface.py --profile translation --hardware a100 --region FRA --json
    python interface.py --model mistral-large-2 --out_tok 400 --json
    python interface.py regions | hardware | profiles | models [--json]
    python interface.py measure --region FRA --out_tok 400 -- COMMAND ARGS...
    python interface.py compare --model mistral-small --out_tok 400 --region FRA -- COMMAND ARGS...
    python interface.py batch requests.csv --group-by region [--json]

Each subcommand parses its arguments, makes one call into ``traitement`` and
formats the answer. Errors print one line on stderr: exit code 2 for a wrong
call (bad value, unknown name), 1 for a failure (unreadable config).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import traitement
from interface_batch import add_batch_arguments, run_batch
from traitement.config import user_config_path
from traitement.errors import CalculatorError, InvalidInputError
from traitement.measurement import MeasureOptions, compare, resolve_country, save_profile

PROG = "interface.py"

# CLI flag for each request field, so an error names what the user typed.
FLAGS = {
    "input_tokens": "--in_tok",
    "output_tokens": "--out_tok",
    "count": "--count",
    "batch_size": "--batch-size",
    "gpu_utilisation": "--gpu-utilisation",
    "pue": "--pue",
    "carbon_intensity_gco2eq_per_kwh": "--intensity",
    "method": "--method",
    "active_params_b": "--active-params-b",
    "total_params_b": "--total-params-b",
    "precision": "--precision",
    "model": "--model",
    "mix": "--mix",
    "region": "--region",
    "save_profile": "--save-profile",
}


class UsageError(CalculatorError):
    """A wrong command line (argparse's complaint), reported on one line with exit code 2."""

    code = "usage"


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, raised instead of printed."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --- formatting ----------------------------------------------------------------


def _scaled(value: float, units: Sequence[tuple[float, str]], digits: int = 3) -> str:
    """``value`` in the largest unit it reaches, e.g. 0.00031 kWh -> '0.314 Wh'."""
    factor, unit = units[0]
    for candidate_factor, candidate_unit in units:
        if abs(value) >= candidate_factor:
            factor, unit = candidate_factor, candidate_unit
    return f"{value / factor:.{digits}g} {unit}"


ENERGY_UNITS_KWH = ((1e-3, "Wh"), (1.0, "kWh"), (1e3, "MWh"), (1e6, "GWh"))
CARBON_UNITS_G = ((1.0, "gCO2e"), (1e3, "kgCO2e"), (1e6, "tCO2e"))
WATER_UNITS_L = ((1e-3, "mL"), (1.0, "L"), (1e3, "m3"))


def format_estimate(result: dict[str, Any]) -> str:
    """A readable summary of one estimate's JSON dict."""
    a = result["assumptions"]
    count = result["count"]
    per = "per request" if count == 1 else f"for {count:,} requests"

    def ranged(name: str, units: Sequence[tuple[float, str]]) -> str:
        return f"{_scaled(result[name], units)} {per}  (range {_scaled(result[name + '_min'], units)} to {_scaled(result[name + '_max'], units)})"

    lines = [f"GenAI footprint, method '{result['method']}'"]
    lines += [f"  warning    {w}" for w in result["warnings"]]
    if a.get("energy_model"):
        lines.append(
            f"  model      {a['active_params_b']:g}B active / {a['total_params_b']:g}B total, {a['precision']}: decode step {a['decode_step_s'] * 1000:.3g} ms"
            f" reading {a['weight_read_gb']:.3g} GB of weights + {a['kv_cache_read_gb']:.3g} GB of KV cache (model-aware energy model)"
        )
    lines += [
        f"  request    {result['input_tokens']:,} tokens in, {result['output_tokens']:,} out, x{count:,}"
        + (f"  (profile {a['profile']})" if a.get("profile") else ""),
        f"  hardware   {a.get('hardware', 'custom')}: {a['n_gpu']} GPU x {a['gpu_power_w']:g} W at {a['gpu_utilisation']:.0%} draw, "
        f"CPU {a['cpu_power_w']:g} W at {a['cpu_utilisation']:.0%}, batch {a['batch_size']:g}",
        f"  site       {a['region']} grid {a['carbon_intensity_gco2eq_per_kwh']:g} gCO2e/kWh, datacentre {a['datacenter']} (PUE {a['pue']:g})",
        f"  time       prefill {result['prefill_s']:.3g} s + decode {result['decode_s']:.3g} s = {result['duration_s']:.3g} s per request"
        f" ({a['prefill_tokens_per_s']:g} and {a['decode_tokens_per_s']:g} tokens/s)",
        f"  energy     {ranged('energy_kwh', ENERGY_UNITS_KWH)}",
        f"             GPU {_scaled(result['energy_gpu_kwh'], ENERGY_UNITS_KWH)} + CPU {_scaled(result['energy_cpu_kwh'], ENERGY_UNITS_KWH)}"
        f" = IT {_scaled(result['energy_it_kwh'], ENERGY_UNITS_KWH)}, x PUE {a['pue']:g} = facility",
        f"  carbon     {ranged('carbon_gco2eq', CARBON_UNITS_G)}  [scope 2, location-based]",
        f"  embodied   {ranged('carbon_embodied_gco2eq', CARBON_UNITS_G)}  [scope 3 hardware share, not in carbon]",
        f"  water      {ranged('water_l', WATER_UNITS_L)}",
        f"  per request: {result['per_request']['energy_wh']:.4g} Wh, {result['per_request']['carbon_gco2eq']:.4g} gCO2e",
    ]
    return "\n".join(lines)


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain left-aligned text table."""
    cells = [[str(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(c[i]) for c in cells)) for i, column in enumerate(columns)]
    head = "  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True))
    body = ["  ".join(c.ljust(width) for c, width in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join([head, "-" * len(head), *body])


def _emit(args: argparse.Namespace, data: Any, text: Callable[[], str]) -> int:
    print(json.dumps(data, indent=2) if args.json else text())
    return 0


# --- subcommands ---------------------------------------------------------------


def add_setup_arguments(parser: argparse.ArgumentParser) -> None:
    """Where and on what the requests run, and the overrides of those presets: shared by ``estimate`` and ``analytics``."""
    parser.add_argument("--region", help="grid region name or ISO alpha-3 code, e.g. usa, FRA (default: usa); see 'regions'")
    parser.add_argument("--datacenter", help="datacentre preset for PUE and water, e.g. google, aws (default: industry-average)")
    parser.add_argument("--hardware", help="serving setup, e.g. h100, a100 (default: h100); see 'hardware'")
    parser.add_argument("--batch-size", metavar="B", help="requests served at once (default: the hardware preset's)")
    parser.add_argument("--gpu-utilisation", metavar="U", help="mean GPU draw as a fraction of board power, 0 to 1 (default: the preset's)")
    parser.add_argument("--pue", metavar="X", help="power usage effectiveness, 1 to 3 (default: the datacentre's)")
    parser.add_argument("--intensity", dest="carbon_intensity_gco2eq_per_kwh", metavar="G", help="grid intensity in gCO2e/kWh (default: the region's)")


def add_estimate_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of one estimate (also accepted with no subcommand)."""
    parser.add_argument("--in_tok", "--input-tokens", dest="input_tokens", metavar="N", help="prompt length in tokens (default: the profile's)")
    parser.add_argument("--out_tok", "--output-tokens", dest="output_tokens", metavar="N", help="answer length in tokens (default: the profile's)")
    parser.add_argument("--count", default="1", metavar="N", help="number of such requests (default: 1)")
    add_setup_arguments(parser)
    parser.add_argument("--profile", help="usage profile giving default token counts: chatbot, completion, translation (default: chatbot)")
    parser.add_argument(
        "--method",
        help="hardware (power x time), parameter (from the model's size, seed 003) or seed-quadratic (the seed's legacy formula, for reproduction only); "
        "default: parameter with --model and no --hardware, else hardware",
    )
    parser.add_argument("--model", help="LLM of the catalogue, e.g. mistral-large-2, llama-3.1-70b; see 'models'")
    parser.add_argument("--mix", help="method parameter's carbon factor: implied (scope 3 life cycle, default) or grid (scope 2, the --region grid)")
    parser.add_argument(
        "--active-params-b", metavar="N", help="model size in billions of active parameters: GPUs, speeds and draw from the model-aware energy model"
    )
    parser.add_argument("--total-params-b", metavar="N", help="all parameters in billions, for mixture-of-experts models (default: the active ones)")
    parser.add_argument("--precision", help="weight precision: bf16, fp16, fp8, int8, mxfp4, int4 (default: bf16)")


def run_estimate(args: argparse.Namespace) -> int:
    fields = {name: getattr(args, name) for name in traitement.NamedRequest.model_fields if getattr(args, name, None) is not None}
    try:
        request = traitement.parse(traitement.NamedRequest, fields)
    except InvalidInputError as error:
        raise _with_flag(error) from None
    try:
        result = traitement.estimate_named(traitement.load_config(), request).to_dict()
    except InvalidInputError as error:
        raise _with_flag(error) from None
    if result["method"] == traitement.methods.parameter.NAME:
        return _emit(args, result, lambda: format_parameter(result))
    return _emit(args, result, lambda: format_estimate(result))


def _with_flag(error: InvalidInputError) -> InvalidInputError:
    """Name the CLI flag beside the field in a validation message."""
    message = str(error)
    field = message.split(":", 1)[0]
    if field in FLAGS:
        message = f"{FLAGS[field]} ({field}){message[len(field) :]}"
    return InvalidInputError(message, code=error.code)


def run_regions(args: argparse.Namespace) -> int:
    data = traitement.describe_regions(traitement.load_config())

    def text() -> str:
        grid = _table(
            [
                {"region": n, "iso": r["iso"], "gco2eq_per_kwh": r["carbon_intensity_gco2eq_per_kwh"], "water_offsite_l_per_kwh": r["wue_offsite_l_per_kwh"]}
                for n, r in data["regions"].items()
            ],
            ["region", "iso", "gco2eq_per_kwh", "water_offsite_l_per_kwh"],
        )
        centers = _table(
            [{"datacenter": n, "pue": d["pue"]["value"], "water_site_l_per_kwh": d["wue_site_l_per_kwh"]["value"]} for n, d in data["datacenters"].items()],
            ["datacenter", "pue", "water_site_l_per_kwh"],
        )
        return f"Regions (grid intensity: Ember 2024 via Our World in Data):\n{grid}\n\nDatacentres:\n{centers}"

    return _emit(args, data, text)


def run_hardware(args: argparse.Namespace) -> int:
    data = traitement.describe_hardware(traitement.load_config())

    def text() -> str:
        rows = [
            {
                "hardware": n,
                "gpus": f"{s['n_gpu']} x {s['gpu']}",
                "power_w": f"{s['n_gpu'] * s['gpu_power_w']:g}",
                "decode_tokens_per_s": f"{s['decode_tokens_per_s']:g}",
                "batch_size": f"{s['batch_size']:g}",
                "description": s["description"],
            }
            for n, s in data["hardware"].items()
        ]
        return _table(rows, ["hardware", "gpus", "power_w", "decode_tokens_per_s", "batch_size", "description"])

    return _emit(args, data, text)


def run_profiles(args: argparse.Namespace) -> int:
    data = traitement.describe_profiles(traitement.load_config())

    def text() -> str:
        rows = [
            {
                "profile": n,
                "input_tokens": f"{p['input_tokens']['value']:g}",
                "output_tokens": f"{p['output_tokens']['value']:g}",
                "description": p["description"],
            }
            for n, p in data["profiles"].items()
        ]
        return _table(rows, ["profile", "input_tokens", "output_tokens", "description"])

    return _emit(args, data, text)


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="cases file, e.g. data/validation/published_cases.yaml (schema: docs/validation.md)")
    parser.add_argument(
        "--method",
        action="append",
        metavar="M",
        help="model-aware (the headline), parameter (seed 003) or seed-quadratic; repeat for several (default: all three)",
    )


def run_validate(args: argparse.Namespace) -> int:
    from traitement.energy_model import load_energy_model
    from traitement.validation import VALIDATION_METHODS, load_cases, validate

    methods = tuple(args.method or VALIDATION_METHODS)
    for method in methods:
        if method not in VALIDATION_METHODS:
            raise InvalidInputError(f"--method: unknown validation method {method!r}; allowed: {', '.join(VALIDATION_METHODS)}", code="unknown-method")
    config = traitement.load_config()
    result = validate(load_cases(args.file), config, load_energy_model(config.directory), methods)
    return _emit(args, result, lambda: format_validation(result))


def format_validation(result: dict[str, Any]) -> str:
    """Per method: each case's predicted and published Wh per request, the ratio, the error factor and the worst case."""
    blocks = []
    for method, summary in result["methods"].items():
        rows = [
            {
                "case": row["id"],
                "boundary": row["boundary"],
                "predicted_wh": f"{row['predicted_wh_per_request']:.4g}" if row["status"] == "ok" else "skipped",
                "published_wh": f"{row['published_wh_per_request']:.4g}",
                "ratio": f"{row['ratio']:.3g}" if row["status"] == "ok" else "",
            }
            for row in summary["cases"]
        ]
        title = f"Method '{method}'" + (" (headline)" if method == result["method"] else "")
        lines = [title, _table(rows, ["case", "boundary", "predicted_wh", "published_wh", "ratio"])]
        if summary["error_factor"] is not None:
            worst = summary["worst_case"]
            lines.append(
                f"error factor {summary['error_factor']:.3g} over {summary['n_cases']} cases; "
                f"worst {worst['id']} (ratio {worst['ratio']:.3g}, off {worst['error_factor']:.3g}x)"
            )
        lines += [f"skipped {skip['id']}: {skip['reason']}" for skip in summary["skipped"]]
        if method == result["method"]:
            lines += [f"  note {row['id']}: {note}" for row in summary["cases"] for note in row.get("notes", [])]
        blocks.append("\n".join(lines))
    blocks.append(f"fit: {result['fit']}")
    return "\n\n".join(blocks)
# --- parameter and measured methods ------------------------------------------------


def format_parameter(result: dict[str, Any]) -> str:
    """A readable summary of a parameter-method estimate."""
    a = result["assumptions"]
    count = result["count"]
    per = "per request" if count == 1 else f"for {count:,} requests"
    if result["mix"] == "implied":
        factor = f"implied mix {a['mix_gco2eq_per_wh']:.4f} gCO2e/Wh  [SCOPE 3, life cycle: calibrated on Mistral AI's 1.14 g for 400 tokens of Large 2]"
    else:
        factor = f"{result['region']} grid {a['carbon_intensity_gco2eq_per_kwh']:g} gCO2e/kWh  [SCOPE 2, electricity only]"
    lines = [f"GenAI footprint, method 'parameter' ({result['scope']})"]
    lines += [f"  warning    {w}" for w in result["warnings"]]
    lines += [
        f"  model      {result['model']} ({a['provider']}): {a['active_params_b']:g} B active of {a['total_params_b']:g} B",
        f"  request    {result['output_tokens']:,} tokens out (input tokens not counted), x{count:,}",
        f"  formula    tokens x ({a['alpha_wh_per_token_per_b_params']:g} Wh x {a['active_params_b']:g} B + {a['beta_wh_per_token']:g} Wh)",
        f"  energy     {_scaled(result['energy_kwh'], ENERGY_UNITS_KWH)} {per}"
        f"  (range {_scaled(result['energy_kwh_min'], ENERGY_UNITS_KWH)} to {_scaled(result['energy_kwh_max'], ENERGY_UNITS_KWH)})",
        f"  carbon     {_scaled(result['carbon_gco2eq'], CARBON_UNITS_G)} {per}"
        f"  (range {_scaled(result['carbon_gco2eq_min'], CARBON_UNITS_G)} to {_scaled(result['carbon_gco2eq_max'], CARBON_UNITS_G)})",
        f"  factor     {factor}",
    ]
    return "\n".join(lines)


def run_models(args: argparse.Namespace) -> int:
    data = traitement.describe_models(traitement.load_config())

    def text() -> str:
        rows = [
            {
                "model": n,
                "provider": m["provider"],
                "active_params_b": _range(m["active_params_b"]),
                "total_params_b": _range(m["total_params_b"]),
                "precision": m["precision"] or "-",
                "wh_per_output_token": f"{m['energy_wh_per_output_token']:.4g}",
            }
            for n, m in data["models"].items()
        ]
        method = data["parameter_method"]
        head = (
            f"Models (method 'parameter': Wh per output token = {method['alpha_wh_per_token_per_b_params']:g} x active B"
            f" + {method['beta_wh_per_token']:g}; implied mix {method['implied_mix_gco2eq_per_wh']:.4f} gCO2e/Wh, scope 3):"
        )
        return head + "\n" + _table(rows, ["model", "provider", "active_params_b", "total_params_b", "precision", "wh_per_output_token"])

    return _emit(args, data, text)


def _range(value: dict[str, Any]) -> str:
    if value["min"] is None and value["max"] is None:
        return f"{value['value']:g}"
    return f"{value['value']:g} ({value['min']:g}-{value['max']:g})"


def add_measure_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="country of the electricity (required): ISO alpha-3 code such as FRA, DEU, USA, or a region name")
    parser.add_argument("--in_tok", "--input-tokens", dest="input_tokens", metavar="N", help="prompt tokens of the run (optional)")
    parser.add_argument("--out_tok", "--output-tokens", dest="output_tokens", metavar="N", help="tokens the run wrote: gives Wh per token and tokens/s")
    parser.add_argument("--save-profile", dest="save_profile", metavar="NAME", help="save a hardware profile calibrated on this run (needs --out_tok)")
    parser.add_argument("measured_command", nargs=argparse.REMAINDER, metavar="-- COMMAND ARGS", help="the command to run and measure, after '--'")


def _measure_options(args: argparse.Namespace) -> MeasureOptions:
    fields = {name: getattr(args, name, None) for name in ("region", "input_tokens", "output_tokens", "save_profile")}
    if fields["region"] is None:
        raise UsageError(f"--region is required: the country whose grid powers this machine, e.g. FRA (see '{PROG} {args.command_name} --help')")
    try:
        return traitement.parse(MeasureOptions, {k: v for k, v in fields.items() if v is not None})
    except InvalidInputError as error:
        raise _with_flag(error) from None


def _run_measured(args: argparse.Namespace, options: Any, config: Any) -> tuple[Any, int]:
    """Run the command after ``--`` under CodeCarbon; returns the measurement and the command's exit code."""
    import shutil
    import subprocess

    command = list(args.measured_command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError(f"no command to measure: put it after '--', e.g. '{PROG} measure --region FRA -- python my_model.py'")
    if shutil.which(command[0]) is None:
        raise UsageError(f"command not found: {command[0]!r}")
    regions = {name: region.iso for name, region in config.site.regions.items()}
    country = resolve_country(options.region, regions)
    # With --json the command's own output goes to stderr (file descriptor 2), so stdout holds one JSON object.
    with traitement.measure(country, options.input_tokens, options.output_tokens) as meter:
        completed = subprocess.run(command, stdout=2 if args.json else None, check=False)  # noqa: S603 - the user's own command
    code = completed.returncode if completed.returncode >= 0 else 128 - completed.returncode
    return meter.result, code


def format_measurement(result: dict[str, Any]) -> str:
    lines = [f"Measured run (CodeCarbon offline tracker, {result['country_name']}; {result['scope']})"]
    lines += [f"  warning    {w}" for w in result["warnings"]]
    lines += [
        f"  sensors    CPU: {result['sensors']['cpu']}; GPU: {result['sensors']['gpu']}; RAM: {result['sensors']['ram']}",
        f"  duration   {result['duration_s']:.3f} s",
        f"  energy     {_scaled(result['energy_kwh'], ENERGY_UNITS_KWH, 4)} (CPU {_scaled(result['energy_cpu_kwh'], ENERGY_UNITS_KWH)}, "
        f"GPU {_scaled(result['energy_gpu_kwh'], ENERGY_UNITS_KWH)}, RAM {_scaled(result['energy_ram_kwh'], ENERGY_UNITS_KWH)}); "
        f"mean {result['mean_power_w']:.3g} W",
        f"  carbon     {_scaled(result['carbon_gco2eq'], CARBON_UNITS_G, 4)} at {result['intensity_gco2eq_per_kwh']:.4g} gCO2e/kWh "
        f"(CodeCarbon's data for {result['region']})  [scope 2]",
    ]
    if result.get("energy_wh_per_output_token") is not None:
        lines.append(f"  per token  {result['energy_wh_per_output_token']:.4g} Wh per output token, {result['output_tokens_per_s']:.4g} output tokens/s")
    if result.get("saved_profile"):
        saved = result["saved_profile"]
        lines.append(
            f"  saved      hardware profile '{saved['profile']}' in {saved['path']}: {saved['power_w']:.3g} W, "
            f"decode {saved['decode_tokens_per_s']:.4g} tokens/s; use it with --hardware {saved['profile']} --pue 1"
        )
    return "\n".join(lines)


def run_measure(args: argparse.Namespace) -> int:
    args.command_name = "measure"
    options = _measure_options(args)
    config = traitement.load_config()
    if options.save_profile is not None:
        if options.output_tokens is None:
            raise UsageError("--save-profile needs --out_tok: the profile's speed comes from the tokens the run wrote")
        if options.save_profile in traitement.load_config(include_user=False).model.hardware:
            raise UsageError(f"--save-profile: {options.save_profile!r} is a shipped hardware preset; choose another name")
    measurement, code = _run_measured(args, options, config)
    result = measurement.to_dict()
    if code != 0:
        result["warnings"].append(f"the command exited with code {code}; no profile saved" if options.save_profile else f"the command exited with code {code}")
    elif options.save_profile is not None:
        shipped_name, shipped = config.hardware()
        ratio = shipped.prefill_tokens_per_s.value / shipped.decode_tokens_per_s.value
        import datetime

        result["saved_profile"] = save_profile(user_config_path(), options.save_profile, measurement, ratio, datetime.date.today().isoformat())
        result["saved_profile"]["prefill_to_decode_ratio_from"] = shipped_name
    _emit(args, result, lambda: format_measurement(result))
    if code != 0:
        print(f"{PROG}: the measured command exited with code {code}", file=sys.stderr)
    return code


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="API model of the catalogue to compare with (required); see 'models'")
    parser.add_argument("--from-json", dest="from_json", metavar="FILE", help="a measurement saved by 'measure --json', instead of running a command")
    add_measure_arguments(parser)


def format_comparison(data: dict[str, Any]) -> str:
    local, api, common = data["local"], data["api"], data["common_perimeter"]
    rows = [
        {
            "": "local (measured)",
            "scope": local["scope"],
            "energy": _scaled(local["energy_kwh"], ENERGY_UNITS_KWH),
            "carbon": _scaled(local["carbon_gco2eq"], CARBON_UNITS_G),
            "common perimeter": _scaled(common["local_carbon_gco2eq"], CARBON_UNITS_G),
        },
        {
            "": f"API {api['model']} (parameter)",
            "scope": api["scope"],
            "energy": _scaled(api["energy_kwh"], ENERGY_UNITS_KWH),
            "carbon": _scaled(api["carbon_gco2eq"], CARBON_UNITS_G),
            "common perimeter": _scaled(common["api_carbon_gco2eq"], CARBON_UNITS_G),
        },
    ]
    ratio = common["api_over_local"]
    lines = [
        f"Local run vs API model, same tokens ({data['input_tokens'] or 0} in, {data['output_tokens']} out)",
        f"  WARNING    {data['warning']}",
        *[f"  note       {w}" for w in data.get("warnings", [])],
        "",
        _table(rows, ["", "scope", "energy", "carbon", "common perimeter"]),
        "",
        f"common perimeter: {common['perimeter']}",
        f"on it, API / local = {ratio:.3g}" if ratio is not None else "on it, the local run used no energy: no ratio",
    ]
    return "\n".join(lines)


def run_compare(args: argparse.Namespace) -> int:
    args.command_name = "compare"
    if args.model is None:
        raise UsageError(f"--model is required: the API model to compare with (see '{PROG} models')")
    config = traitement.load_config()
    config.llm(args.model)  # an unknown model fails before the run
    code = 0
    if args.from_json is not None:
        try:
            measured = json.loads(open(args.from_json, encoding="utf-8").read())
        except (OSError, ValueError) as error:
            raise UsageError(f"--from-json: cannot read a measurement from {args.from_json!r}: {error}") from None
        if not isinstance(measured, dict) or measured.get("method") != traitement.methods.measured.NAME:
            raise UsageError(f"--from-json: {args.from_json!r} is not the output of 'measure --json'")
        for name in ("input_tokens", "output_tokens", "region"):
            if getattr(args, name) is None and measured.get(name) is not None:
                setattr(args, name, str(measured[name]))
        options = _measure_options(args)
    else:
        options = _measure_options(args)
        measurement, code = _run_measured(args, options, config)
        measured = measurement.to_dict()
    if options.output_tokens is None:
        raise UsageError("--out_tok is required: the API model is estimated for the same output tokens")
    measured["input_tokens"], measured["output_tokens"] = options.input_tokens, options.output_tokens
    common = {"model": args.model, "input_tokens": options.input_tokens, "output_tokens": options.output_tokens}
    scope3 = traitement.estimate_named(config, traitement.parse(traitement.NamedRequest, common)).to_dict()
    grid = traitement.estimate_named(config, traitement.parse(traitement.NamedRequest, {**common, "mix": "grid", "region": options.region})).to_dict()
    data = compare(measured, scope3, grid)
    data["warnings"] = [*measured["warnings"], *scope3["warnings"]] + ([f"the measured command exited with code {code}"] if code else [])
    _emit(args, data, lambda: format_comparison(data))
    return code




# --- analytics ----------------------------------------------------------------

# CLI flag for each analytics option, so an error names what the user typed.
ANALYTICS_FLAGS = {
    "batch_size": "--batch-size",
    "gpu_utilisation": "--gpu-utilisation",
    "pue": "--pue",
    "carbon_intensity_gco2eq_per_kwh": "--intensity",
    "topic_chars": "--topic-chars",
    "prompt_chars": "--prompt-chars",
    "chatbot_topics": "--chatbot-topics",
    "output_chars": "--output-chars",
    "chars_per_token": "--chars-per-token",
    "translation_output_chars_per_token": "--translation-chars-per-token",
}


def add_analytics_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``analytics``: the file, the site and hardware (as for an estimate), the size assumptions."""
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="analytics YAML (default: data/2025-FluidTopics-daily-analytics.yaml if present, else the sample)"
    )
    add_setup_arguments(parser)
    parser.add_argument("--topic-chars", metavar="N", help="characters per documentation topic (default 2500, range 2000-3000)")
    parser.add_argument("--prompt-chars", metavar="N", help="characters per user prompt (default 450, range 400-500)")
    parser.add_argument("--chatbot-topics", metavar="N", help="topics read per chatbot conversation (default 6.5, range 3-10)")
    parser.add_argument("--output-chars", metavar="N", help="characters per completion or chatbot answer (default 300, range 200-400)")
    parser.add_argument("--chars-per-token", metavar="X", help="characters per token of topics, prompts, answers (default 4, range 3.5-4)")
    parser.add_argument(
        "--translation-chars-per-token",
        dest="translation_output_chars_per_token",
        metavar="X",
        help="characters per token of translated text (default 3.5: French, German, Spanish)",
    )
    parser.add_argument("--csv", metavar="OUT", help="write one row per day and profile to this CSV file")
    parser.add_argument("--plot", metavar="OUT.png", help="write a chart of daily and monthly carbon to this PNG file")


def run_analytics(args: argparse.Namespace) -> int:
    fields = {name: getattr(args, name, None) for name in traitement.AnalyticsOptions.model_fields}
    try:
        options = traitement.parse_options(fields)
    except InvalidInputError as error:
        message, field = str(error), str(error).split(":", 1)[0]
        flagged = f"{ANALYTICS_FLAGS[field]} ({field}){message[len(field) :]}" if field in ANALYTICS_FLAGS else message
        raise InvalidInputError(flagged, code=error.code) from None
    path, data = traitement.read_analytics(args.file)
    result = traitement.analyse_analytics(traitement.load_config(), data, options, source=str(path))
    if args.csv:
        _write(args.csv, "--csv", lambda: result.daily.to_csv(args.csv, index=False, date_format="%Y-%m-%d"))
    if args.plot:
        _write(args.plot, "--plot", lambda: traitement.plot_analytics(result).savefig(args.plot, dpi=110))
    answer = result.to_dict()
    return _emit(args, answer, lambda: format_analytics(answer))


def _write(path: str, flag: str, write: Callable[[], Any]) -> None:
    try:
        write()
    except OSError as error:
        raise InvalidInputError(f"{flag}: cannot write {path}: {error.strerror or error}", code="cannot-write") from None
    except ValueError as error:  # matplotlib: unknown image format
        raise InvalidInputError(f"{flag}: cannot write {path}: {error}", code="cannot-write") from None


def format_analytics(result: dict[str, Any]) -> str:
    """A readable summary of an analytics result's JSON dict."""
    a, period, context = result["assumptions"], result["period"], result["context"]

    def ranged(row: dict[str, Any], name: str, units: Sequence[tuple[float, str]]) -> str:
        return f"{_scaled(row[name], units)} ({_scaled(row[name + '_min'], units)} to {_scaled(row[name + '_max'], units)})"

    sizes = a["sizes"]
    size_text = ", ".join(f"{name} {s['value']:g}" + (f" ({s['min']:g}-{s['max']:g})" if s["min"] != s["max"] else "") for name, s in sizes.items())
    missing = ", ".join(f"{name} {n}" for name, n in result["missing_days"].items())
    lines = [
        f"GenAI footprint of Fluid Topics analytics: {result['source']}",
        f"  period     {period['start']} to {period['end']} ({period['days']} days); days absent from the file, counted as zero: {missing}",
        f"  setup      hardware {a['hardware']}, region {a['region']} ({a['carbon_intensity_gco2eq_per_kwh']:g} gCO2e/kWh),"
        f" datacentre {a['datacenter']} (PUE {a['pue']:g})",
        f"  sizes      {size_text}",
    ]
    for profile, row in result["per_request"].items():
        lines.append(
            f"  one {profile:<11} {row['input_tokens']:,.0f} tokens in, {row['output_tokens']:,.0f} out: {row['energy_wh']:.3g} Wh"
            f" ({row['energy_wh_min']:.3g} to {row['energy_wh_max']:.3g}), {row['carbon_gco2eq']:.3g} gCO2e"
        )
    rows = [
        {
            "profile": name,
            "requests": f"{row['requests']:,.0f}",
            "input_tokens": f"{row['input_tokens']:.3g}",
            "output_tokens": f"{row['output_tokens']:.3g}",
            "energy (low to high)": ranged(row, "energy_kwh", ENERGY_UNITS_KWH),
            "carbon (low to high)": ranged(row, "carbon_gco2eq", CARBON_UNITS_G),
        }
        for name, row in [*result["by_profile"].items(), ("total", result["total"])]
    ]
    lines += ["", _table(rows, list(rows[0]))]
    months = [
        {
            "month": row["month"],
            "days": row["days"],
            "requests": f"{row['requests']:,.0f}",
            "energy (low to high)": ranged(row, "energy_kwh", ENERGY_UNITS_KWH),
            "carbon (low to high)": ranged(row, "carbon_gco2eq", CARBON_UNITS_G),
        }
        for row in result["monthly_totals"]
    ]
    lines += ["", "Per month, all profiles:", _table(months, list(months[0]))]
    year = result["per_year"]
    lines += [
        "",
        f"Per year ({year['method']}): {year['requests']:,.0f} requests, energy {ranged(year, 'energy_kwh', ENERGY_UNITS_KWH)},"
        f" carbon {ranged(year, 'carbon_gco2eq', CARBON_UNITS_G)}  [scope 2, location-based]",
    ]
    if "carbon_gco2eq_per_1000_sessions" in context:
        lines.append(
            f"Context: {context['sessions']:,.0f} sessions in the period; {ranged(context, 'carbon_gco2eq_per_1000_sessions', CARBON_UNITS_G)}"
            f" per 1,000 sessions; {context['requests_per_1000_sessions']:.3g} GenAI requests per 1,000 sessions"
        )
    lines.append(f"  note: {context['note']}")
    if context.get("content_stock_at_end"):
        stocks = ", ".join(f"{name} {count:,}" for name, count in context["content_stock_at_end"].items())
        lines.append(f"  content at {period['end']}: {stocks} ({context['content_note']})")
    lines += [f"  warning: {w}" for w in result["warnings"]]
    return "\n".join(lines)


# name: (help, add arguments, run)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "estimate": ("estimate one kind of request (the default command)", add_estimate_arguments, run_estimate),
    "regions": ("list regions (grid intensity, water) and datacentre presets", lambda p: None, run_regions),
    "hardware": ("list hardware presets and GPU boards", lambda p: None, run_hardware),
    "profiles": ("list usage profiles", lambda p: None, run_profiles),
    "validate": ("compare the methods with published measurements in a cases file", add_validate_arguments, run_validate),
    "models": ("list the LLM catalogue (parameter counts) used by method 'parameter'", lambda p: None, run_models),
    "measure": ("run a command and measure its energy and carbon with CodeCarbon (offline)", add_measure_arguments, run_measure),
    "compare": ("compare a measured local run with an API model for the same tokens", add_compare_arguments, run_compare),
    "analytics": ("footprint of a Fluid Topics daily analytics file, per day, month and profile", add_analytics_arguments, run_analytics),
    "batch": ("estimate a log of requests (CSV, JSON Lines, Parquet): totals and per group", add_batch_arguments, run_batch),
}


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="Energy (kWh), carbon (gCO2e) and water (L) of generative-AI requests. "
        "With no subcommand, estimates one kind of request: the options of 'estimate' apply.",
        epilog="Example: python interface.py --in_tok 2000 --out_tok 500 --region usa",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 wrong call)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "estimate")
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command][2](args)
    except CalculatorError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return error.exit_code
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
