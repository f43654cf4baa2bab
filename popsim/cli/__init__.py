"""The `popsim` command line.

Every user error prints one line (`popsim: error: what is wrong; how to fix it`) and exits with
status 2; nothing already cached is lost. `popsim COMMAND --help` documents every command. Each command
accepts exactly the options it uses: the settings of a run come from `popsim.parameters`, one argument
group per concern (`options.py`); the commands live in `run.py`, `studies.py`, `data.py`, `info.py` and
`export.py`.
"""

from __future__ import annotations

import sys

from ..errors import PopsimError, RunInterrupted
from . import data, export, info, run, studies
from .options import EXIT_USAGE, Parser

#: the modules whose `register(sub)` adds their commands, in the order `popsim --help` lists them
COMMANDS = (run, studies, data, info, export)


def build_parser() -> Parser:
    p = Parser(prog="popsim", description="Simulate human populations with value-prompted LLM agents and compare "
                                          "them with human survey data.")
    sub = p.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except RunInterrupted as exc:
        print(f"popsim: stopped: {' '.join(str(exc).split())}", file=sys.stderr)
        return 130 if "interrupted" in str(exc) else 3
    except PopsimError as exc:
        print(f"popsim: error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, whatever it quotes
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("popsim: interrupted; answers received so far are cached: rerun the same command to resume",
              file=sys.stderr)
        return 130


__all__ = ["main", "build_parser", "EXIT_USAGE"]
