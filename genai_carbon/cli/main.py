"""The command line's assembly: the parser, the dispatch to a command, one-line errors and exit codes.

Errors print one line on stderr: exit code 2 for a wrong call (bad value,
unknown name, unknown option, with the closest option suggested), 1 for a
failure (a broken config file or setting). The settings (``GENAI_CARBON_*``)
are validated first, whatever the command. Output cut short by its reader
(``genai-carbon regions | head -1``) ends quietly, with exit code 0.

Two entry points run it: the console command ``genai-carbon`` (:func:`run`) and
``python interface.py``; they differ only in the program name they print.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from traitement.errors import CalculatorError
from traitement.settings import load_settings

from . import analytics, batch, common, estimate, lists, measure, report, validate
from .common import Command, Parser, UsageError, example_lines

MODULES = (estimate, lists, validate, measure, analytics, batch, report)
"""The command modules, in the order ``--help`` lists their commands. To add a command: add a module and list it here."""
COMMANDS: dict[str, Command] = {command.name: command for module in MODULES for command in module.COMMANDS}
DEFAULT_COMMAND = "estimate"
TOP_LEVEL_OPTIONS = ("-h", "--help", "--version")
"""What may come first without a command (anything else starts the default command's options)."""


def build_parser(command: str | None = None) -> tuple[Parser, dict[str, Parser]]:
    """The parser of every command, and each command's subparser; only ``command``'s arguments are added (a one-off estimate builds only its own)."""
    prog = common.program()
    parser = Parser(
        prog=prog,
        description="Energy (kWh), carbon (gCO2e) and water (L) of generative-AI requests. "
        "With no command, estimates one kind of request: the options of 'estimate' apply.",
        epilog=example_lines(
            [
                "--in_tok 2000 --out_tok 500 --region usa",
                "--model mistral-large-2 --out_tok 400",
                "regions",
                "estimate --help",
            ]
        ),
    )
    parser.add_argument("--version", action="store_true", help="print the package's version and the data pack's, then exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    parsers: dict[str, Parser] = {}
    for name, entry in COMMANDS.items():
        sub = subparsers.add_parser(name, help=entry.help, description=entry.help, epilog=example_lines(entry.examples))
        if name == command:
            entry.add_arguments(sub)
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        parsers[name] = sub
    return parser, parsers


def main(argv: Sequence[str] | None = None, prog: str = common.SCRIPT) -> int:
    """Run the CLI as ``prog``; returns the exit code (0 ok, 1 failure, 2 wrong call)."""
    common.set_program(prog)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in TOP_LEVEL_OPTIONS):
        argv.insert(0, DEFAULT_COMMAND)
    try:
        if argv[0] == "--version":
            if len(argv) > 1:  # they would be silently ignored
                raise UsageError(f"--version takes no other argument (got {' '.join(argv[1:])[:60]!r}); allowed: {prog} --version alone")
            from traitement.version import version_text

            print(version_text(prog))
            return _flushed(0)
        load_settings()
        parser, parsers = build_parser(argv[0])
        args, extras = parser.parse_known_args(argv)
        if extras:
            raise UsageError(common.unrecognized(extras, parsers.get(args.command, parser)))
        return _flushed(COMMANDS[args.command].run(args))
    except CalculatorError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return error.exit_code
    except SystemExit as stop:  # --help
        return _flushed(stop.code if isinstance(stop.code, int) else 0)
    except BrokenPipeError:
        return _reader_gone()


def _flushed(code: int) -> int:
    """``code``, once what was printed reached stdout (a closed pipe shows here, not at interpreter exit)."""
    sys.stdout.flush()
    return code


def _reader_gone() -> int:
    """The reader of stdout closed it (``| head``): stop quietly; what is still buffered goes nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (captured in a test): nothing to redirect
        pass
    return 0


def run() -> int:
    """The console command ``genai-carbon`` (``[project.scripts]`` in pyproject.toml)."""
    return main(prog=common.COMMAND)
