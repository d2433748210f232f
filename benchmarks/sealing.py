"""What end-to-end sealing costs: the same vertical job over real gRPC with mTLS on
127.0.0.1, sealed and unsealed, in one run. Goal: sealing < 5 % of the wall time.

A coordinator and two party nodes (their SQLite, their programs) run in this process;
runs alternate unsealed / sealed so load drift hits both alike. Two figures:
- measured: the time each party spends inside seal/open, over the sealed run's wall time
  (a direct measure, robust on a shared machine);
- difference: median sealed minus median unsealed wall time, over the unsealed (noisier).
Synthetic data: ROWS rows, bank 13 + bureau 10 features, split_nn 32-16, 16 top, B = 256,
protection = "none" and the plain join align by default: the fastest phases, so sealing's
share of the wall time is the largest it gets (ECDH align or Paillier only add time that
sealing does not touch).

    .venv/bin/python -m benchmarks.sealing [--rows 20000] [--epochs 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import write_result
from tests.factories import job_dict, synthetic_vertical, write_toml
from tests.integration import node_federation
from vfl.config.party_policy import PartyPolicy
from vfl.protocol.envelope import Envelope
from vfl.runtime.sealing import EnvelopeSealer

WIDTHS = {"bank": 13, "bureau": 10}


class TimedSealer:
    """Wraps a party's sealer and adds up the seconds spent in it."""

    def __init__(self, inner: EnvelopeSealer) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0
        self.count = 0
        self._lock = threading.Lock()

    def seal(self, envelope: Envelope) -> Envelope:
        start = time.perf_counter()
        out = self.inner.seal(envelope)
        self._add(time.perf_counter() - start)
        return out

    def open(self, envelope: Envelope) -> Envelope:
        start = time.perf_counter()
        out = self.inner.open(envelope)
        self._add(time.perf_counter() - start)
        return out

    def _add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds
            self.count += 1


@dataclass
class Run:
    sealed: bool
    wall_s: float
    train_s: float
    sealing_s: float
    envelopes: int
    body_bytes: int


def one_run(root: Path, data: dict[str, Path], spec_toml: str, sealed: bool) -> Run:
    # the parties accept the plain join align and protection "none" this benchmark runs
    policy = PartyPolicy(align_protocols=("join", "ecdh"), protections=("none",))
    fed = node_federation.start(
        root, seal=sealed, datasets=data, policies=dict.fromkeys(data, policy)
    )
    timers = {}
    try:
        for name, node in fed.nodes.items():
            timers[name] = TimedSealer(node.channel._sealer)  # the benchmark probe wraps the sealer
            node.channel._sealer = timers[name]
        job_id, state, error = fed.run_job(spec_toml)
        assert state == "succeeded", error
        phases = {t.phase: t for t in fed.server.store.phase_timings(job_id)}
        ends = [t.finished_at or t.started_at for t in phases.values()]
        wall = max(ends) - min(t.started_at for t in phases.values())
        train = phases["train"]
        ledger = [e for node in fed.nodes.values() for e in node.store.ledger(job_id)]
        sent = [e for e in ledger if e.direction == "sent"]
        assert {e.sealing for e in ledger} == {"x25519-chacha20poly1305" if sealed else "none"}
        return Run(
            sealed,
            wall,
            (train.finished_at or train.started_at) - train.started_at,
            sum(t.seconds for t in timers.values()),
            len(sent),
            sum(e.nbytes for e in sent),
        )
    finally:
        fed.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--align", choices=["join", "ecdh"], default="join")
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = synthetic_vertical(folder, WIDTHS, rows=args.rows, seed=1)
        spec = job_dict(
            {name: Path("data") for name in data},
            align={"protocol": args.align},
            model={"bottom_hidden": [32], "cut_width": 16, "top_hidden": [16]},
            train={
                "epochs": args.epochs,
                "batch_size": 256,
                "validation_fraction": 0.2,
                "protection": "none",
            },
        )
        spec_toml = write_toml(folder / "job.toml", spec).read_text()
        for k in range(args.repeats):
            for sealed in (False, True):
                run = one_run(folder / f"run{k}-{sealed}", data, spec_toml, sealed)
                runs.append(run)
                print(
                    f"{'sealed  ' if sealed else 'unsealed'} wall {run.wall_s:.2f} s, train "
                    f"{run.train_s:.2f} s, in seal/open {run.sealing_s * 1e3:.1f} ms, "
                    f"{run.envelopes} envelopes, {run.body_bytes / 1e6:.1f} MB",
                    flush=True,
                )
    payload = summarise(runs, args)
    path = write_result("sealing", payload)
    print(
        f"sealing: {payload['measured_share'] * 100:.2f} % of wall time measured inside "
        f"seal/open; wall-time difference {payload['difference_share'] * 100:+.1f} % "
        f"(goal < 5 %) -> {path}"
    )


def summarise(runs: list[Run], args: argparse.Namespace) -> dict[str, Any]:
    on = [r for r in runs if r.sealed]
    off = [r for r in runs if not r.sealed]
    wall_on = statistics.median(r.wall_s for r in on)
    wall_off = statistics.median(r.wall_s for r in off)
    return {
        "rows": args.rows,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "align": args.align,
        "transport": "gRPC + mTLS on 127.0.0.1, coordinator and 2 party nodes in one process",
        "envelopes_per_job": on[0].envelopes,
        "body_mb_per_job": on[0].body_bytes / 1e6,
        "sealed_wall_s": wall_on,
        "unsealed_wall_s": wall_off,
        "sealed_train_s": statistics.median(r.train_s for r in on),
        "unsealed_train_s": statistics.median(r.train_s for r in off),
        "sealing_s": statistics.median(r.sealing_s for r in on),
        "measured_share": statistics.median(r.sealing_s / r.wall_s for r in on),
        "difference_share": (wall_on - wall_off) / wall_off,
        "goal_share": 0.05,
        "raw": [r.__dict__ for r in runs],
    }


if __name__ == "__main__":
    main()
