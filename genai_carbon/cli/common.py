"""What every command shares: its declaration, one-line usage errors, and the options of a setup.

A command parses its arguments, validates them with the core's schemas
(:func:`parse_options`, so the words are the API's), makes one call into
``traitement`` and formats the answer.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel

import traitement
from traitement.errors import CalculatorError, InvalidInputError, UnknownNameError

SCRIPT = "interface.py"
"""The program's name when run as ``python interface.py`` from a clone."""
COMMAND = "genai-carbon"
"""The program's name when run as the installed console command."""
_program = [SCRIPT]

M = TypeVar("M", bound=BaseModel)


def set_program(name: str) -> None:
    """The name the messages and examples use for the program (``interface.py`` or ``genai-carbon``)."""
    _program[0] = name


def program() -> str:
    """The program's name, as messages print it."""
    return _program[0]


def invocation() -> str:
    """How a user types the program: ``python interface.py`` or ``genai-carbon``."""
    name = program()
    return f"python {name}" if name.endswith(".py") else name


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, a one-line help, how to add its arguments, how to run it (returns the exit code), examples for ``--help``."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    examples: Sequence[str] = field(default=())
    """Arguments after the program's name, each a whole example that runs from a clone (``--help`` shows them)."""


def example_lines(examples: Sequence[str]) -> str | None:
    """The ``Examples:`` block of a ``--help``, with the program written as the user runs it."""
    if not examples:
        return None
    return "examples:\n" + "\n".join(f"  {invocation()} {example}" for example in examples)


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """For commands that take only ``--json``."""


class UsageError(CalculatorError):
    """A wrong command line (argparse's complaint), reported on one line with exit code 2."""

    code = "usage"


class _StoreOnce(argparse._StoreAction):
    """argparse's ``store``, refusing an option given twice: ``--in_tok 2000 --in_tok 3000`` silently kept 3000."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        given = namespace.__dict__.setdefault("_given_options", set())
        if option_string is not None and self.dest in given:
            names = "/".join(self.option_strings)
            parser.error(f"argument {names}: given more than once; allowed: one value")
        given.add(self.dest)
        super().__call__(parser, namespace, values, option_string)


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, raised instead of printed; its help keeps the examples' line breaks;
    an option that takes one value may be given once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def unrecognized(extras: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """One line for arguments no option takes, naming the closest option of ``parser`` when one is close:
    ``--in-toks`` -> "unrecognized arguments: --in-toks; did you mean --in_tok?"."""
    message = f"unrecognized arguments: {' '.join(extras)}"
    unknown = next((word.split("=", 1)[0] for word in extras if word.startswith("--")), None)
    if unknown is not None:
        import difflib

        def key(option: str) -> str:
            return option.lstrip("-").replace("_", "-").lower()

        best: tuple[float, str] | None = None
        for action in parser._actions:  # argparse keeps no public list of options
            options = [option for option in action.option_strings if option.startswith("--")]
            for option in options:
                score = difflib.SequenceMatcher(None, key(unknown), key(option)).ratio()
                if score >= 0.6 and (best is None or score > best[0]):
                    best = (score, options[0])  # suggest the option's main spelling
        if best is not None:
            message += f"; did you mean {best[1]}?"
    return f"{message} (see '{parser.prog} --help')"


SETUP_FLAGS = {
    "region": "--region",
    "datacenter": "--datacenter",
    "hardware": "--hardware",
    "batch_size": "--batch-size",
    "gpu_utilisation": "--gpu-utilisation",
    "pue": "--pue",
    "carbon_intensity_gco2eq_per_kwh": "--intensity",
}
"""The CLI flag of each setup field, so an error names what the user typed."""


def add_setup_arguments(parser: argparse.ArgumentParser, boards: bool = True) -> None:
    """Where and on what the requests run, and the overrides of those presets: shared by ``estimate`` and ``analytics``
    (``boards``: whether ``--hardware`` also takes a GPU board of the data pack; ``analytics`` takes serving setups only)."""
    parser.add_argument(
        "--region",
        help="grid: a country (name, ISO alpha-3 or alpha-2 code: spain, ESP, es), a subdivision (US-CA, CA-QC) or a cloud region "
        "(aws:us-east-1, gcp:europe-west9, azure:westeurope, which also picks the provider's datacentre preset) (default: usa); see 'regions'",
    )
    parser.add_argument(
        "--datacenter", help="datacentre preset for PUE and water, e.g. google, aws (default: a cloud region's provider's, else industry-average)"
    )
    parser.add_argument(
        "--hardware",
        help="serving setup, e.g. h100, a100 (default: h100), or a GPU board of the data pack (a10g, l40s, mi325x): its GPU count and speeds "
        "then come from the model-aware energy model for --model (default llama-3.1-70b); see 'hardware'"
        if boards
        else "a serving setup listed by 'hardware', e.g. h100, a100 (default: h100); not a bare GPU board",
    )
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
    except (InvalidInputError, UnknownNameError) as error:
        raise with_flag(error, flags) from None
