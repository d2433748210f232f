"""Entry point of the `vfl` command.

Each subcommand lives in its own module with `register(subparsers)`, listed in
commands.py; only the chosen one is imported. This file wires them and turns errors into
one line and an exit code: 2 for usage, config and data errors, 1 for failures at run time.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from vfl.cli.commands import COMMANDS
from vfl.errors import VflError
from vfl.observability.json_logs import LogFormat, configure_logging


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the `chosen` command is imported and gets its full arguments."""
    parser = argparse.ArgumentParser(
        prog="vfl", description="Federated learning across organizations."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, text) in COMMANDS.items():
        if name == chosen:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(args_list)
    # `serve` commands take --log-format json (vfl/observability/json_logs.py)
    configure_logging(args.verbose, getattr(args, "log_format", LogFormat.TEXT))
    try:
        code: int = args.handler(args)
        return code
    except VflError as exc:
        print(f"vfl: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("vfl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
