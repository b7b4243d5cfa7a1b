"""The command line's assembly: the parser, the dispatch to a command, one-line errors and exit codes.

Errors print one line on stderr: exit code 2 for a wrong call (bad value,
unknown name), 1 for a failure (a broken config file or setting). The settings
(``GENAI_CARBON_*``) are validated first, whatever the command.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from traitement.errors import CalculatorError
from traitement.settings import load_settings

from . import analytics, batch, estimate, lists, measure, validate
from .common import PROG, Command, Parser

MODULES = (estimate, lists, validate, measure, analytics, batch)
"""The command modules, in the order ``--help`` lists their commands. To add a command: add a module and list it here."""
COMMANDS: dict[str, Command] = {command.name: command for module in MODULES for command in module.COMMANDS}
DEFAULT_COMMAND = "estimate"


def build_parser(command: str | None = None) -> Parser:
    """The parser of every command; only ``command``'s arguments are added (a one-off estimate builds only its own)."""
    parser = Parser(
        prog=PROG,
        description="Energy (kWh), carbon (gCO2e) and water (L) of generative-AI requests. "
        "With no subcommand, estimates one kind of request: the options of 'estimate' apply.",
        epilog="Example: python interface.py --in_tok 2000 --out_tok 500 --region usa",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, entry in COMMANDS.items():
        sub = subparsers.add_parser(name, help=entry.help, description=entry.help)
        if name == command:
            entry.add_arguments(sub)
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 wrong call)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, DEFAULT_COMMAND)
    try:
        load_settings()
        args = build_parser(argv[0]).parse_args(argv)
        return COMMANDS[args.command].run(args)
    except CalculatorError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return error.exit_code
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
