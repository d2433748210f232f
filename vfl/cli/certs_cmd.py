"""`vfl certs init`: the certificates of one federation (CA, coordinator, parties, operator)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from coordinator.certs import init_pki
from vfl.cli.commands import help_for


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("certs", help=help_for("certs"))
    inner = p.add_subparsers(dest="certs_command", required=True)
    init = inner.add_parser("init", help="a CA, the coordinator's and every party's certificate")
    init.add_argument("--out", type=Path, required=True, help="an empty folder to write into")
    init.add_argument(
        "--coordinator",
        required=True,
        help="host names or IPs the coordinator serves on, comma-separated",
    )
    init.add_argument("--parties", required=True, help="party names, comma-separated")
    init.add_argument("--days", type=int, default=825, help="validity of every certificate")
    init.set_defaults(handler=run_init)


def run_init(args: argparse.Namespace) -> int:
    hosts = [h.strip() for h in args.coordinator.split(",") if h.strip()]
    parties = [p.strip() for p in args.parties.split(",") if p.strip()]
    written = init_pki(args.out, hosts, parties, args.days)
    print(f"wrote {len(written)} files to {args.out} (keys are 0600; keep ca.key offline)")
    return 0
