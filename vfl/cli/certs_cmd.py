"""`vfl certs`: enrolment in which every private key stays with its owner.

CA operator: `ca init`, `sign CSR`, `revoke`, `list`, `crl`. Each party (and the
coordinator's operator): `request` (key 0600 + CSR, on its own machine), `install`.
`init` writes every key into one folder: the one-machine shortcut for demos only.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from coordinator.certs import init_pki
from vfl.cli import certs_enrol_cmd
from vfl.cli.commands import help_for


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("certs", help=help_for("certs"))
    inner = p.add_subparsers(dest="certs_command", required=True)
    init = inner.add_parser(
        "init",
        help="demo shortcut: a CA and every certificate AND private key in one folder "
        "(production: `ca init`, `request`, `sign`)",
    )
    init.add_argument("--out", type=Path, required=True, help="an empty folder to write into")
    init.add_argument(
        "--coordinator",
        required=True,
        help="host names or IPs the coordinator serves on, comma-separated",
    )
    init.add_argument("--parties", required=True, help="party names, comma-separated")
    init.add_argument("--days", type=int, default=825, help="validity of every certificate")
    init.set_defaults(handler=run_init)
    certs_enrol_cmd.register(inner)


def run_init(args: argparse.Namespace) -> int:
    hosts = [h.strip() for h in args.coordinator.split(",") if h.strip()]
    parties = [p.strip() for p in args.parties.split(",") if p.strip()]
    written = init_pki(args.out, hosts, parties, args.days)
    print(f"wrote {len(written)} files to {args.out} (keys are 0600)")
    print(
        "demo shortcut: every private key is in this one folder. For a real federation each "
        "party makes its own key (`vfl certs request`) and the CA operator signs "
        "(`vfl certs sign`); docs/enrolment.md"
    )
    return 0
