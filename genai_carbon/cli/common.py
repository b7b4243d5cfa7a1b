"""What every command shares: its declaration, one-line usage errors, and the options of a setup.

A command parses its arguments, validates them with the core's schemas
(:func:`parse_options`, so the words are the API's), makes one call into
``traitement`` and formats the answer.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel

import traitement
from traitement.errors import CalculatorError, InvalidInputError

PROG = "interface.py"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, a one-line help, how to add its arguments, how to run it (returns the exit code)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """For commands that take only ``--json``."""


class UsageError(CalculatorError):
    """A wrong command line (argparse's complaint), reported on one line with exit code 2."""

    code = "usage"


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, raised instead of printed."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


SETUP_FLAGS = {
    "region": "--region",
    "batch_size": "--batch-size",
    "gpu_utilisation": "--gpu-utilisation",
    "pue": "--pue",
    "carbon_intensity_gco2eq_per_kwh": "--intensity",
}
"""The CLI flag of each setup field, so an error names what the user typed."""


def add_setup_arguments(parser: argparse.ArgumentParser) -> None:
    """Where and on what the requests run, and the overrides of those presets: shared by ``estimate`` and ``analytics``."""
    parser.add_argument("--region", help="grid region name or ISO alpha-3 code, e.g. usa, FRA (default: usa); see 'regions'")
    parser.add_argument("--datacenter", help="datacentre preset for PUE and water, e.g. google, aws (default: industry-average)")
    parser.add_argument("--hardware", help="serving setup, e.g. h100, a100 (default: h100); see 'hardware'")
    parser.add_argument("--batch-size", metavar="B", help="requests served at once (default: the hardware preset's)")
    parser.add_argument("--gpu-utilisation", metavar="U", help="mean GPU draw as a fraction of board power, 0 to 1 (default: the preset's)")
    parser.add_argument("--pue", metavar="X", help="power usage effectiveness, 1 to 3 (default: the datacentre's)")
    parser.add_argument("--intensity", dest="carbon_intensity_gco2eq_per_kwh", metavar="G", help="grid intensity in gCO2e/kWh (default: the region's)")


def with_flag(error: CalculatorError, flags: Mapping[str, str]) -> CalculatorError:
    """The same error, with the CLI flag named beside the field: ``--in_tok (input_tokens): must be >= 1``."""
    message = str(error)
    field = message.split(":", 1)[0]
    if field not in flags:
        return error
    return type(error)(f"{flags[field]} ({field}){message[len(field) :]}", code=error.code)


def parse_options(schema: type[M], args: argparse.Namespace, flags: Mapping[str, str]) -> M:
    """The options given on the command line (those not ``None``), validated by ``schema``; errors name the flag."""
    given = {name: getattr(args, name) for name in schema.model_fields if getattr(args, name, None) is not None}
    try:
        return traitement.parse(schema, given)
    except InvalidInputError as error:
        raise with_flag(error, flags) from None


def flagged(call: Callable[[], Any], flags: Mapping[str, str]) -> Any:
    """``call()``, with the CLI flag named in a validation error about one of the options."""
    try:
        return call()
    except InvalidInputError as error:
        raise with_flag(error, flags) from None
