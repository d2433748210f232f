"""`vfl party serve --config party.toml` runs a party node; `vfl party approve JOB` shows
the job's spec, the [policy] verdict and what will leave the silo, asks, then approves it
for this party (with the party's own certificate) if party.toml [policy]
accepts it, and otherwise declines it: the job fails, naming this party and the rule.
`vfl party ledger` prints what left this silo (the node's ledger, per job and kind)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from parties.approval import approve, job_spec
from parties.approval import party_client as client_for
from vfl.cli.approval_review import confirmed, review
from vfl.cli.commands import help_for
from vfl.cli.ledger_view import LEGEND, ledger_report
from vfl.config.party_config import load_party_config
from vfl.errors import ConfigError
from vfl.observability.json_logs import add_log_format
from vfl.remote import CoordinatorClient


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("party", help=help_for("party"))
    inner = p.add_subparsers(dest="party_command", required=True)
    serve = inner.add_parser("serve", help="connect to the coordinator and run approved jobs")
    serve.add_argument("--config", type=Path, required=True, help="party.toml")
    add_log_format(serve)
    serve.set_defaults(handler=run_serve)
    approve = inner.add_parser(
        "approve", help="approve a pending job for this party (declined if outside [policy])"
    )
    approve.add_argument("job_id")
    approve.add_argument("--config", type=Path, required=True, help="party.toml")
    approve.add_argument(
        "--yes", action="store_true", help="approve without showing the job and asking"
    )
    approve.set_defaults(handler=run_approve)
    ledger = inner.add_parser(
        "ledger", help="what left this silo: each message kind sent, to whom, bytes, protection"
    )
    ledger.add_argument("--config", type=Path, required=True, help="party.toml")
    ledger.add_argument("--job", help="one job (default: the latest jobs)")
    ledger.add_argument("--limit", type=int, default=10, help="how many latest jobs")
    ledger.set_defaults(handler=run_ledger)


def run_serve(args: argparse.Namespace) -> int:
    # here, not at the top: the node's programs load torch, which `approve` and `ledger`
    # never need (seconds of imports on a loaded machine)
    from parties.node import PartyNode  # noqa: PLC0415
    from vfl.models.warm_up import warm_up  # noqa: PLC0415

    config = load_party_config(args.config)
    node = PartyNode(config)
    warm_up()  # before it connects, so a connected node is ready: vfl/models/warm_up.py
    node.start()
    print(f"party {config.name}: connecting to {config.coordinator}", flush=True)
    if config.metrics.enabled:
        print(f"party {config.name}: metrics on {node.metrics_endpoint.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.wait(0.5):
            pass
    node.stop()
    return 0


def party_client(config_path: Path) -> CoordinatorClient:
    return client_for(load_party_config(config_path))


def run_approve(args: argparse.Namespace) -> int:
    config = load_party_config(args.config)
    client = client_for(config)
    try:
        if not args.yes:
            if not sys.stdin.isatty():
                raise ConfigError(
                    f"vfl party approve {args.job_id}: no terminal to ask on; review the job "
                    "in the party dashboard and pass --yes to approve without asking"
                )
            _, spec = job_spec(client, args.job_id)
            print(review(config, spec, args.job_id), flush=True)
            if not confirmed(input):
                print(f"job {args.job_id}: not approved; it stays pending")
                return 1
        info = approve(config, client, args.job_id)
    finally:
        client.close()
    print(f"job {info.job_id}: approved; state {info.state}")
    return 0


def run_ledger(args: argparse.Namespace) -> int:
    config = load_party_config(args.config)
    print(f"party {config.name}: what left this silo ({LEGEND})")
    for line in ledger_report(config.state_dir, args.job, args.limit):
        print(line)
    return 0
