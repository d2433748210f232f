"""`vfl doctor --party party.toml` / `vfl doctor --coordinator coordinator.toml`: check a
deployment end to end, one line per check, exit 1 if any failed (2 for a bad config)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vfl.cli.commands import help_for
from vfl.cli.doctor.check import CheckResult, exit_code
from vfl.cli.doctor.coordinator_doctor import coordinator_checks
from vfl.config.coordinator_config import load_coordinator_config
from vfl.config.party_config import load_party_config


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("doctor", help=help_for("doctor"))
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--party", type=Path, metavar="PARTY_TOML", help="check this party")
    which.add_argument(
        "--coordinator", type=Path, metavar="COORDINATOR_TOML", help="check this coordinator"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    results: list[CheckResult]
    if args.party is not None:
        # here, not at the top: the coordinator's doctor loads no pandas, as its server
        from vfl.cli.doctor.party_doctor import party_checks  # noqa: PLC0415

        results = party_checks(load_party_config(args.party), str(args.party))
    else:
        config = load_coordinator_config(args.coordinator)
        results = coordinator_checks(config, str(args.coordinator))
    for result in results:
        print(result.render(), flush=True)
    return exit_code(results)
