"""The gRPC + mTLS row of benchmarks/horizontal.py: the benchmark's horizontal job deployed
as a user deploys it, a `vfl coordinator serve` and one `vfl party serve` per party, each
its own process on 127.0.0.1, mTLS with certificates from `coordinator.certs`, every
envelope sealed end to end (`vfl.cli.local_federation.LocalFederation`, which `vfl demo`
and the e2e tests start the same way).

It runs as one fresh process (`python -m benchmarks.horizontal_grpc SPEC ROOT`) so the
benchmark measures the whole tree from outside (driver, coordinator, nodes): wall time,
peak Σ PSS. It prints one JSON line: `seconds` from the job's submission to its result
(what the issue's ≤ 1.0× Flower goal is about), `start_seconds` from nothing to every node
connected (certificates, processes, imports, streams), the bytes every participant sent
(the parties' from the result JSON, the hosted aggregator's from the coordinator's ledger,
as the simulator counts them), the phase timings and where the coordinator wrote the final
model.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from vfl.cli.local_federation import LocalFederation
from vfl.config.phase_plan import TERMINAL
from vfl.remote import connect

LIMIT_S = 3600.0
POLL_S = 0.05
"""The driver's poll of the job's state: what it adds to the measured time, at most."""


def deployed_run(spec: Path, root: Path) -> dict[str, Any]:
    """Start the federation, run `spec` on it, stop it; the figures described above."""
    started = time.perf_counter()
    fed = LocalFederation(root, spec)
    try:
        fed.start()
        fed.wait_connected(limit_s=600)
        start_seconds = time.perf_counter() - started
        client = connect(fed.address, root / "certs", "operator")
        try:
            submitted = time.perf_counter()
            job_id = client.submit(fed.job_spec().read_text())
            result = _wait(client, job_id)
            seconds = time.perf_counter() - submitted
        finally:
            client.close()
    finally:
        fed.stop()
    if result.get("status") != "succeeded":
        logs = {n: (root / f"{n}.log").read_text()[-1500:] for n in ["coordinator", *fed.parties]}
        raise SystemExit(
            f"deployed run ended {result.get('status')}: {result.get('error')}\n{logs}"
        )
    parties_sent = sum(b["sent"] for b in result["bytes"].values())
    return {
        "seconds": seconds,
        "start_seconds": start_seconds,
        "bytes": parties_sent + hosted_sent(root, job_id),
        "bytes_parties": parties_sent,
        "timings": result.get("timings", {}),
        "model": str(root / "coordinator-state" / "jobs" / job_id / "model" / "weights.npz"),
    }


def hosted_sent(root: Path, job_id: str) -> int:
    """What the coordinator's hosted aggregator sent (its ledger): the result JSON counts
    the parties' bytes only, the simulator's counts the aggregator's too."""
    db = sqlite3.connect(root / "coordinator-state" / "hosted.db")
    try:
        query = "SELECT SUM(nbytes) FROM ledger WHERE job_id = ? AND direction = 'sent'"
        (total,) = db.execute(query, (job_id,)).fetchone()
    finally:
        db.close()
    return int(total or 0)


def _wait(client: Any, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        info = client.job(job_id)
        if info.state in TERMINAL:
            out: dict[str, Any] = json.loads(info.result_json)
            return out
        time.sleep(POLL_S)
    raise SystemExit(f"job {job_id} still running after {LIMIT_S:.0f} s")


def main() -> None:
    spec, root = Path(sys.argv[1]), Path(sys.argv[2])
    print(json.dumps(deployed_run(spec, root)))


if __name__ == "__main__":
    main()
