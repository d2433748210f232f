"""`vfl party serve --config party.toml` runs a party node; `vfl party approve JOB`
approves a job for this party (with the party's own certificate) if party.toml [policy]
accepts it, and otherwise declines it: the job fails, naming this party and the rule."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
from pathlib import Path
from typing import Any

import grpc

from parties.node import PartyNode
from vfl.cli.commands import help_for
from vfl.config.loading import parse_job
from vfl.config.party_config import load_party_config
from vfl.errors import PolicyError, VflError
from vfl.models.warm_up import warm_up
from vfl.remote import CoordinatorClient, connect


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("party", help=help_for("party"))
    inner = p.add_subparsers(dest="party_command", required=True)
    serve = inner.add_parser("serve", help="connect to the coordinator and run approved jobs")
    serve.add_argument("--config", type=Path, required=True, help="party.toml")
    serve.set_defaults(handler=run_serve)
    approve = inner.add_parser(
        "approve", help="approve a pending job for this party (declined if outside [policy])"
    )
    approve.add_argument("job_id")
    approve.add_argument("--config", type=Path, required=True, help="party.toml")
    approve.set_defaults(handler=run_approve)


def run_serve(args: argparse.Namespace) -> int:
    config = load_party_config(args.config)
    node = PartyNode(config)
    warm_up()  # before it connects, so a connected node is ready: vfl/models/warm_up.py
    node.start()
    print(f"party {config.name}: connecting to {config.coordinator}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.wait(0.5):
            pass
    node.stop()
    return 0


def party_client(config_path: Path) -> CoordinatorClient:
    config = load_party_config(config_path)
    if config.insecure:
        return connect(config.coordinator, identity=config.name, insecure=True)
    assert config.tls is not None, "validated: tls is required unless insecure"
    ca, cert, key = config.tls.read()
    creds = grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )
    return CoordinatorClient(grpc.secure_channel(config.coordinator, creds), [])


def run_approve(args: argparse.Namespace) -> int:
    config = load_party_config(args.config)
    client = party_client(args.config)
    try:
        job = client.job(args.job_id)
        if not job.spec_json:
            raise VflError(
                f"job {args.job_id}: the coordinator sent no job spec, so party.toml [policy] "
                "cannot be checked; upgrade the coordinator"
            )
        data = json.loads(job.spec_json)
        spec = parse_job(data, source=f"job {args.job_id}: spec")
        refusal = config.policy.refusal(spec, args.job_id)
        if refusal is not None:
            client.decline(args.job_id, refusal.line)
            raise PolicyError(f"{refusal.line} (declined: the job fails)")
        info = client.approve(args.job_id)
    finally:
        client.close()
    print(f"job {info.job_id}: approved; state {info.state}")
    return 0
