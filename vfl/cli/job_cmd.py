"""`vfl job submit|wait|status|list|cancel|resume|logs`: steer jobs on a coordinator.

Every command authenticates with a certificate from `--certs DIR` (default $VFL_CERTS) as
`--as NAME` (default: operator); `--insecure` talks plain TCP to a loopback coordinator.
`vfl job status ID --json` prints the same result JSON as `vfl simulate --json`;
`vfl job wait ID` follows a job submitted earlier (say, while its parties approve it) as
`submit --wait` does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from vfl.cli.commands import help_for
from vfl.cli.progress import ProgressReporter, print_summary
from vfl.errors import ConfigError
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.remote import CoordinatorClient, connect
from vfl.result import JobResult
from vfl.runtime.events import Progress


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("job", help=help_for("job"))
    inner = p.add_subparsers(dest="job_command", required=True)
    submit = inner.add_parser("submit", help="submit a job spec")
    submit.add_argument("spec", type=Path, help="the job spec (TOML)")
    submit.add_argument("--wait", action="store_true", help="follow it until it ends")
    submit.add_argument("--json", type=Path, help="with --wait: write the result JSON here")
    submit.set_defaults(handler=run_submit)
    wait = inner.add_parser("wait", help="follow a submitted job until it ends")
    wait.add_argument("job_id")
    wait.add_argument("--json", type=Path, help="write the result JSON here")
    wait.set_defaults(handler=run_wait)
    for name, handler, text in (
        ("status", run_status, "a job's state and result"),
        ("cancel", run_cancel, "cancel a job"),
        ("resume", run_resume, "run a failed job's failed phase again from checkpoints"),
        ("logs", run_logs, "a job's lifecycle log"),
    ):
        cmd = inner.add_parser(name, help=text)
        cmd.add_argument("job_id")
        if name == "status":
            cmd.add_argument("--json", action="store_true", help="print the result JSON")
        cmd.set_defaults(handler=handler)
    listing = inner.add_parser("list", help="recent jobs")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=run_list)
    parties = inner.add_parser("parties", help="registered parties and their datasets")
    parties.set_defaults(handler=run_parties)
    by_id = [inner.choices[n] for n in ("status", "cancel", "resume", "logs")]
    for cmd in (submit, wait, listing, parties, *by_id):
        _add_connection(cmd)


def _add_connection(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--coordinator",
        default=os.environ.get("VFL_COORDINATOR"),
        help="host:port (default $VFL_COORDINATOR)",
    )
    p.add_argument(
        "--certs",
        type=Path,
        default=os.environ.get("VFL_CERTS"),
        help="folder from `vfl certs init` (default $VFL_CERTS)",
    )
    p.add_argument(
        "--as",
        dest="identity",
        default=os.environ.get("VFL_IDENTITY", "operator"),
        help="whose certificate to use (default operator)",
    )
    p.add_argument("--insecure", action="store_true", help="plain TCP, loopback only")


def _client(args: argparse.Namespace) -> CoordinatorClient:
    if not args.coordinator:
        raise ConfigError("--coordinator: required (or set VFL_COORDINATOR)")
    return connect(args.coordinator, args.certs, args.identity, args.insecure)


def run_submit(args: argparse.Namespace) -> int:
    try:
        text = args.spec.read_text()
    except OSError as exc:
        raise ConfigError(f"{args.spec}: cannot read ({exc.strerror})") from None
    client = _client(args)
    job_id = client.submit(text)
    print(job_id, flush=True)
    if not args.wait:
        return 0
    return follow(client, job_id, args.json)


def run_wait(args: argparse.Namespace) -> int:
    client = _client(args)
    try:
        return follow(client, args.job_id, args.json)
    finally:
        client.close()


def follow(client: CoordinatorClient, job_id: str, json_path: Path | None) -> int:
    """Draw progress until the job ends, then print the summary (like `vfl simulate`)."""
    with ProgressReporter(total_epochs=0) as bar:

        def update(info: pb.JobInfo) -> None:
            for p in info.progress:
                bar.report("", Progress(p.phase, int(p.done), int(p.total)))

        data = client.wait(job_id, on_update=update)
    result = JobResult.from_dict(data)
    print_summary(result)
    if json_path is not None:
        result.write(json_path)
    return 0 if result.status == "succeeded" else 1


def run_status(args: argparse.Namespace) -> int:
    info = _client(args).job(args.job_id)
    if args.json:
        print(json.dumps(json.loads(info.result_json), indent=2))
        return 0
    print(f"{info.job_id}  {info.state}  submitted by {info.submitted_by}")
    for p in info.parties:
        flags = ", ".join(
            x for x, on in (("approved", p.approved), ("connected", p.connected)) if on
        )
        print(f"  {p.name:<16} {p.role:<15} {flags}")
    for step in info.progress:
        print(f"  {step.phase}: {step.done}/{step.total}")
    if info.error:
        print(f"  error: {info.error}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for info in _client(args).jobs(args.limit):
        when = dt.datetime.fromtimestamp(info.created_at).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{info.job_id:<40} {info.state:<10} {when}  {info.submitted_by}")
    return 0


def run_parties(args: argparse.Namespace) -> int:
    """What a job spec may name: each party, whether it is connected, and the datasets it
    registered (names, row counts and columns: the coordinator never holds more)."""
    parties = _client(args).parties()
    if not parties:
        print("no party has connected to this coordinator yet")
    for party in parties:
        seen = dt.datetime.fromtimestamp(party.last_seen).strftime("%Y-%m-%d %H:%M:%S")
        state = "connected" if party.connected else f"offline, last seen {seen}"
        print(f"{party.name:<16} {state}")
        for d in party.datasets:
            print(f"  {d.name:<16} {d.rows:>10} rows  {', '.join(d.columns)}")
        if not party.datasets:
            print("  (no datasets registered)")
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    info = _client(args).cancel(args.job_id)
    print(f"{info.job_id}: {info.state}")
    return 0


def run_resume(args: argparse.Namespace) -> int:
    info = _client(args).resume(args.job_id)
    print(f"{info.job_id}: {info.state}")
    return 0


def run_logs(args: argparse.Namespace) -> int:
    for line in _client(args).logs(args.job_id):
        when = dt.datetime.fromtimestamp(line.at).strftime("%H:%M:%S.%f")[:-3]
        print(f"{when} {line.party:<14} {line.text}")
    return 0
