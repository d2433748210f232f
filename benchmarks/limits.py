"""What the hardening limits (issue 17) cost: the same workloads on this tree and on the
tree before them, in one run.

The "before" tree is a git worktree of BASELINE (the last commit before the bounds), made
in a temporary folder; each workload runs in a fresh interpreter with that tree first on
its path, and the runs alternate before / after so load drift hits both alike.

Workloads (all in one process per run, loopback only):
- relay: the coordinator's mailbox as the relay drives it: put N envelopes of SIZE bytes
  addressed to one party, the receiver reading and confirming in windows of 16, on
  SQLite. After the bounds, every put also sums what the job and the sender hold
  (per-job and per-sender quotas); this is their cost.
- job: the breast sample's vertical job end to end over gRPC with mutual TLS and sealing,
  a coordinator and two party nodes (stream gate, Hello deadline, report admission and
  folding, receiver budget, spec bounds, party policy all on the path).

    .venv/bin/python -m benchmarks.limits [--repeats 3] [--envelopes 2000] [--epochs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import write_result

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "e7374ee"
"""The last commit before issue 17's bounds (spec bounds landed in its child, 70c873a)."""

PROBE = r"""
import json, sys, tempfile, time
from pathlib import Path

workload, count, size, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with tempfile.TemporaryDirectory() as folder:
    root = Path(folder)
    if workload == "relay":
        from coordinator.database import Database
        from coordinator.mailbox import Mailbox, MailboxLimits, PutResult

        db = Database(f"sqlite:///{root / 'coordinator.db'}")
        db.migrate()
        box = Mailbox(db, MailboxLimits())
        body, last, confirmed = b"x" * size, 0, 0
        start = time.perf_counter()
        for i in range(count):
            assert box.put("job", "bank", "shop", "k", f"s#{i}", body) is PutResult.STORED
            if i % 16 == 15:
                for mail in box.pending("shop", last, 16):
                    box.confirm("shop", mail.id)
                    last, confirmed = mail.id, confirmed + 1
        seconds = time.perf_counter() - start
        db.close()
        print(json.dumps({"seconds": seconds, "per_s": count / seconds}))
    else:
        from tests.integration.node_federation import breast_job, start as start_federation

        fed = start_federation(root)
        try:
            start = time.perf_counter()
            job_id, state, error = fed.run_job(breast_job(epochs))
            seconds = time.perf_counter() - start
        finally:
            fed.stop()
        assert state == "succeeded", error
        print(json.dumps({"seconds": seconds}))
"""


def _run(tree: Path, workload: str, args: argparse.Namespace) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = [workload, str(args.envelopes), str(args.size), str(args.epochs)]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{workload} on {tree.name}: {proc.stderr.strip().splitlines()[-1:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _baseline_tree(folder: Path) -> Path:
    tree = folder / "before"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), BASELINE],
        check=True,
        capture_output=True,
    )
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--envelopes", type=int, default=2000)
    parser.add_argument("--size", type=int, default=64 << 10, help="bytes per envelope")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workloads", nargs="+", default=["relay", "job"])
    args = parser.parse_args()
    out: dict[str, Any] = {"baseline": BASELINE, "repeats": args.repeats}
    with tempfile.TemporaryDirectory() as folder:
        before = _baseline_tree(Path(folder))
        try:
            for workload in args.workloads:
                runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
                for _ in range(args.repeats):
                    runs["before"].append(_run(before, workload, args))
                    runs["after"].append(_run(ROOT, workload, args))
                medians = {
                    side: statistics.median(r["seconds"] for r in results)
                    for side, results in runs.items()
                }
                out[workload] = {
                    "runs": runs,
                    "median_seconds": medians,
                    "after_over_before": medians["after"] / medians["before"],
                }
                print(
                    f"{workload}: before {medians['before']:.2f} s, after "
                    f"{medians['after']:.2f} s ({medians['after'] / medians['before']:.3f}x)"
                )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                check=False,
                capture_output=True,
            )
    if "relay" in out:
        out["relay"].update(envelopes=args.envelopes, bytes=args.size)
    if "job" in out:
        out["job"].update(epochs=args.epochs)
    path = write_result("limits", out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
