"""``measure`` and ``compare``: a local run measured by CodeCarbon, alone or beside an API model for the same tokens.

    python interface.py measure --region FRA --out_tok 400 -- COMMAND ARGS...
    python interface.py compare --model mistral-small --out_tok 400 --region FRA -- COMMAND ARGS...
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import traitement
from traitement.config import user_config_path
from traitement.errors import InvalidInputError
from traitement.measurement import MeasureOptions, compare, load_measurement, save_profile

from .common import Command, UsageError, parse_options, program
from .formatting import carbon, emit, energy, exact, number, table

FLAGS = {"region": "--region", "input_tokens": "--in_tok", "output_tokens": "--out_tok", "save_profile": "--save-profile"}
"""The CLI flag of each option, so an error names what the user typed."""


def add_measure_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--region", help="where the machine's electricity comes from (required): a region name or ISO code, e.g. france, FRA; its grid figure gives the carbon"
    )
    parser.add_argument("--in_tok", "--in-tok", "--input-tokens", dest="input_tokens", metavar="N", help="prompt tokens of the run (optional)")
    parser.add_argument(
        "--out_tok", "--out-tok", "--output-tokens", dest="output_tokens", metavar="N", help="tokens the run wrote: gives Wh per token and tokens/s"
    )
    parser.add_argument("--save-profile", dest="save_profile", metavar="NAME", help="save a hardware profile calibrated on this run (needs --out_tok)")
    parser.add_argument("measured_command", nargs=argparse.REMAINDER, metavar="-- COMMAND ARGS", help="the command to run and measure, after '--'")


def _measure_options(args: argparse.Namespace) -> MeasureOptions:
    if args.region is None:
        raise UsageError(f"--region is required: the country whose grid powers this machine, e.g. FRA (see '{program()} {args.command_name} --help')")
    return parse_options(MeasureOptions, args, FLAGS)


def _run_measured(args: argparse.Namespace, options: Any, config: Any) -> tuple[Any, int]:
    """Run the command after ``--`` under CodeCarbon; returns the measurement and the command's exit code."""
    import shutil
    import subprocess

    command = list(args.measured_command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError(f"no command to measure: put it after '--', e.g. '{program()} measure --region FRA -- python my_model.py'")
    if shutil.which(command[0]) is None:
        raise UsageError(f"command not found: {command[0]!r}")
    meter = traitement.measure(options.region, options.input_tokens, options.output_tokens, config=config)  # an unknown region fails before the run
    # With --json the command's own output goes to stderr (file descriptor 2), so stdout holds one JSON object.
    with meter:
        completed = subprocess.run(command, stdout=2 if args.json else None, check=False)  # noqa: S603 - the user's own command
    code = completed.returncode if completed.returncode >= 0 else 128 - completed.returncode
    return meter.result, code


def format_measurement(result: dict[str, Any]) -> str:
    lines = [f"Measured run (energy: CodeCarbon offline tracker; carbon: the project's grid figure for {result['region']}; {result['scope']})"]
    lines += [f"  warning    {w}" for w in result["warnings"]]
    lines += [
        f"  sensors    CPU: {result['sensors']['cpu']}; GPU: {result['sensors']['gpu']}; RAM: {result['sensors']['ram']}",
        f"  duration   {number(result['duration_s'], 4)} s",
        f"  energy     {energy(result['energy_kwh'], 4)} (CPU {energy(result['energy_cpu_kwh'])}, "
        f"GPU {energy(result['energy_gpu_kwh'])}, RAM {energy(result['energy_ram_kwh'])}); "
        f"mean {number(result['mean_power_w'])} W",
        f"  carbon     {carbon(result['carbon_gco2eq'], 4)} at {exact(result['intensity_gco2eq_per_kwh'])} gCO2e/kWh, "
        f"{result['intensity_source']}  [scope 2]",
    ]
    if result.get("energy_wh_per_output_token") is not None:
        lines.append(
            f"  per token  {number(result['energy_wh_per_output_token'], 4)} Wh per output token, {number(result['output_tokens_per_s'], 4)} output tokens/s"
        )
    if result.get("saved_profile"):
        saved = result["saved_profile"]
        lines.append(
            f"  saved      hardware profile '{saved['profile']}' in {saved['path']}: {number(saved['power_w'])} W, "
            f"decode {number(saved['decode_tokens_per_s'], 4)} tokens/s; use it with --hardware {saved['profile']} --pue 1"
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
    emit(args, result, lambda: format_measurement(result))
    if code != 0:
        print(f"{program()}: the measured command exited with code {code}", file=sys.stderr)
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
            "energy": energy(local["energy_kwh"]),
            "carbon": carbon(local["carbon_gco2eq"]),
            "common perimeter": carbon(common["local_carbon_gco2eq"]),
        },
        {
            "": f"API {api['model']} (parameter)",
            "scope": api["scope"],
            "energy": energy(api["energy_kwh"]),
            "carbon": carbon(api["carbon_gco2eq"]),
            "common perimeter": carbon(common["api_carbon_gco2eq"]),
        },
    ]
    ratio = common["api_over_local"]
    lines = [
        f"Local run vs API model, same tokens ({number(data['input_tokens'] or 0)} in, {number(data['output_tokens'])} out)",
        f"  WARNING    {data['warning']}",
        *[f"  note       {w}" for w in data.get("warnings", [])],
        "",
        table(rows, ["", "scope", "energy", "carbon", "common perimeter"]),
        "",
        f"common perimeter: {common['perimeter']}",
        f"on it, API / local = {number(ratio)}" if ratio is not None else "on it, the local run used no energy: no ratio",
    ]
    return "\n".join(lines)


def _agrees_with_the_run(options: Any, given: dict[str, Any], measured: dict[str, Any], config: traitement.Config) -> None:
    """A flag that contradicts the saved run is refused: the API model would be estimated for other tokens than the run wrote
    (or another grid), and the comparison would silently compare different things."""
    for name, flag in (("input_tokens", "--in_tok"), ("output_tokens", "--out_tok")):
        if given[name] is not None and measured.get(name) is not None and getattr(options, name) != measured[name]:
            raise UsageError(
                f"{flag}: {getattr(options, name):,} is not the saved run's {name} ({measured[name]:,}); "
                "allowed: leave it out (the comparison is for the run's own tokens), or the same number",
                code="contradicts-measurement",
            )
    if given["region"] is not None and measured.get("region") is not None:
        region, saved = config.region(options.region)[0], config.region(measured["region"])[0]
        if region != saved:
            raise UsageError(
                f"--region: {options.region!r} ({region}) is not the saved run's region ({saved}); allowed: leave it out, or the same region",
                code="contradicts-measurement",
            )


def run_compare(args: argparse.Namespace) -> int:
    args.command_name = "compare"
    if args.model is None:
        raise UsageError(f"--model is required: the API model to compare with (see '{program()} models')")
    config = traitement.load_config()
    config.llm(args.model)  # an unknown model fails before the run
    code = 0
    if args.from_json is not None:
        try:
            measured = load_measurement(args.from_json)
        except InvalidInputError as error:
            raise UsageError(f"--from-json: {error}", code=error.code) from None
        given = {name: getattr(args, name) for name in ("input_tokens", "output_tokens", "region")}
        for name in given:
            if given[name] is None and measured.get(name) is not None:
                setattr(args, name, str(measured[name]))
        options = _measure_options(args)
        _agrees_with_the_run(options, given, measured, config)
    else:
        options = _measure_options(args)
        measurement, code = _run_measured(args, options, config)
        measured = measurement.to_dict()
    if options.output_tokens is None:
        raise UsageError("--out_tok is required: the API model is estimated for the same output tokens")
    measured["input_tokens"], measured["output_tokens"] = options.input_tokens, options.output_tokens
    common = {"model": args.model, "method": traitement.methods.parameter.NAME, "input_tokens": options.input_tokens, "output_tokens": options.output_tokens}
    scope3 = traitement.estimate_named(config, traitement.NamedRequest(**common)).to_dict()
    grid = traitement.estimate_named(config, traitement.NamedRequest(**common, mix="grid", region=options.region)).to_dict()
    data = compare(measured, scope3, grid)
    data["warnings"] = [*measured["warnings"], *scope3["warnings"]] + ([f"the measured command exited with code {code}"] if code else [])
    emit(args, data, lambda: format_comparison(data))
    return code


COMMANDS = [
    Command(
        "measure",
        "run a command and measure its energy with CodeCarbon (offline); carbon at the project's grid figure for the region",
        add_measure_arguments,
        run_measure,
        examples=(
            'measure --region FRA --out_tok 400 -- python -c "sum(range(10**7))"',
            "measure --region france --in_tok 200 --out_tok 400 --json -- python my_model.py",
            "measure --region FRA --out_tok 400 --save-profile my-box -- python my_model.py",
        ),
    ),
    Command(
        "compare",
        "compare a measured local run with an API model for the same tokens, at one grid intensity",
        add_compare_arguments,
        run_compare,
        examples=(
            'compare --model mistral-small --in_tok 200 --out_tok 400 --region FRA -- python -c "sum(range(10**7))"',
            "compare --model mistral-small --from-json run.json",
        ),
    ),
]
