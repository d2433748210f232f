"""Entry point of the `vfl` command.

Each subcommand lives in its own module with `register(subparsers)`; this file only wires
them and turns errors into one line and an exit code: 2 for usage, config and data
errors, 1 for failures at run time.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from vfl.cli import (
    certs_cmd,
    coordinator_cmd,
    demo_cmd,
    job_cmd,
    party_cmd,
    psi_cmd,
    simulate_cmd,
)
from vfl.errors import VflError

COMMANDS = (
    simulate_cmd,
    demo_cmd,
    certs_cmd,
    psi_cmd,
    coordinator_cmd,
    party_cmd,
    job_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vfl", description="Federated learning across organizations."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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
