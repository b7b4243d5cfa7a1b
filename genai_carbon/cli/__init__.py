"""The command line: one module per command (or small group of commands), assembled by :mod:`.main`.

    python interface.py --help

Each command module exposes ``COMMANDS``: a list of :class:`~genai_carbon.cli.common.Command`
(name, help, how to add its arguments, how to run it). To add a command: add a
module here and list it in ``main.MODULES``.
"""
