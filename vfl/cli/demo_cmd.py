"""`vfl demo`: the sample vertical job (breast cancer, hospital + lab) as a real deployment.

Certificates go into a temporary folder; a coordinator and one party node per party start
as separate processes on 127.0.0.1 and talk gRPC with mutual TLS (each party.toml's
[policy] lists the sample's protection "none", which parties refuse by default); the job
is submitted, followed with a progress bar, and its metrics printed; every process is
stopped on exit.
`--in-process` runs the same job in the simulator instead.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from vfl.cli.commands import help_for
from vfl.cli.job_cmd import follow
from vfl.cli.local_federation import LocalFederation, sample_policy
from vfl.cli.simulate_cmd import run_job
from vfl.errors import ConfigError
from vfl.remote import connect

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("demo", help=help_for("demo"))
    p.add_argument("--samples", type=Path, default=SAMPLES, help="the samples folder")
    p.add_argument("--json", type=Path, help="write the result JSON here")
    p.add_argument("--in-process", action="store_true", help="simulate instead of deploying")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    job = args.samples / "breast" / "job.toml"
    if not job.exists():
        raise ConfigError(f"{job}: sample job not found; pass --samples DIR (the repo's samples/)")
    print(f"demo: {job} — a hospital (labels) and a lab train one model; rows stay home")
    if args.in_process:
        return run_job(job, args.json, None)
    with tempfile.TemporaryDirectory(prefix="vfl-demo-") as tmp:
        fed = LocalFederation(Path(tmp), job)
        try:
            print(f"demo: certificates, configs and logs in {tmp}", flush=True)
            protections = ", ".join(sample_policy(fed.sample).protections)
            print(f"demo: each party.toml [policy] accepts protections {protections}", flush=True)
            fed.start()
            print(
                f"demo: coordinator on {fed.address} (mTLS); starting {', '.join(fed.parties)}",
                flush=True,
            )
            fed.wait_connected()
            client = connect(fed.address, Path(tmp) / "certs", "operator")
            job_id = client.submit(fed.job_spec().read_text())
            print(f"demo: submitted job {job_id}; every party approves it", flush=True)
            code = follow(client, job_id, args.json)
            client.close()
            return code
        finally:
            fed.stop()
