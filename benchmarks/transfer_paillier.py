"""Seconds per batch of the transfer Paillier exchange at production key size.

Both sides of vfl/algorithms/transfer/paillier in one process (a thread each) over the
in-memory hub, 2048-bit keys, B = 256 overlap rows, linear heads on the issue's benchmark
shape (source 13 features, target 10), representation width d. One warm-up batch (comb
tables, first obfuscators), then --batches measured batches:
- `workers = 1`: every crypto operation inline in its side's thread: thread CPU per side
  and per phase is the party's whole cost; on two machines (or two free cores) a batch
  takes about max(CPU_A, CPU_B), since the three rounds are symmetric;
- `workers = 2` per side: wall time with both parties on this shared 2-core box.
s/epoch = s/batch × 30,000/256. Key generation is excluded.

    .venv/bin/python -m benchmarks.transfer_paillier [--batches 3] [--width 16]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.unit.transfer_paillier.harness import A, B, Batch, both, random_batch, start_pair
from vfl.crypto.keys import generate_keypair

ROWS, BATCH, P_A, P_B = 30_000, 256, 13, 10


def _measure(workers: int, batches: int, width: int, keys: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        pair = start_pair(Path(tmp), width, BATCH, keys=keys, min_key_bits=2048, workers=workers)
        try:
            walls, cpu_a, cpu_b, sizes = [], [], [], []
            for step in range(batches + 1):
                batch = random_batch(BATCH, P_A, P_B, width, seed=step)
                sent_before = sum(len(e.body) for e in pair.hub.envelopes)
                if step == 1:
                    pair.source.clock.reset()
                    pair.target.clock.reset()
                start = time.perf_counter()
                cpu = _timed_exchange(pair, batch, step)
                wall = time.perf_counter() - start
                if step:  # the first batch builds comb tables: excluded
                    walls.append(wall)
                    cpu_a.append(cpu[A])
                    cpu_b.append(cpu[B])
                    sizes.append(sum(len(e.body) for e in pair.hub.envelopes) - sent_before)
            phases = {
                side: {k: round(v / batches, 4) for k, v in clock.seconds.items()}
                for side, clock in (("source", pair.source.clock), ("target", pair.target.clock))
            }
        finally:
            pair.close()
    return {
        "workers": workers,
        "wall_s_per_batch": statistics.median(walls),
        "cpu_s_per_batch": {"source": statistics.median(cpu_a), "target": statistics.median(cpu_b)},
        "phase_cpu_s_per_batch": phases,
        "bytes_per_batch": statistics.median(sizes),
    }


def _timed_exchange(pair: Any, batch: Batch, step: int) -> dict[str, float]:
    scope = {"epoch": 0, "batch": step}
    out: dict[str, float] = {}

    def source() -> float:
        t = time.thread_time()
        ctx = pair.ctx[A].scoped(**scope)
        pair.source.exchange(ctx, batch.h_a, batch.u_a, batch.labels, batch.summary)
        return time.thread_time() - t

    def target() -> float:
        t = time.thread_time()
        pair.target.exchange(pair.ctx[B].scoped(**scope), batch.h_b, batch.u_b)
        return time.thread_time() - t

    both({A: source, B: target}, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    t = time.perf_counter()
    keys = {A: generate_keypair(2048), B: generate_keypair(2048)}
    print(f"key generation (two 2048-bit pairs): {time.perf_counter() - t:.1f} s")
    per_epoch = ROWS / BATCH
    for workers in args.workers:
        r = _measure(workers, args.batches, args.width, keys)
        cpu = r["cpu_s_per_batch"]
        print(f"d={args.width} workers={workers}: {r}")
        wall = r["wall_s_per_batch"]
        line = f"  wall {wall:.2f} s/batch -> {wall * per_epoch:.0f} s/epoch"
        if workers == 1:  # with worker processes the threads' CPU misses the workers' share
            line += (
                f"; max side CPU {max(cpu.values()):.2f} s/batch -> "
                f"{max(cpu.values()) * per_epoch:.0f} s/epoch with a core per party, "
                f"{sum(cpu.values()) / 2 * per_epoch:.0f} s/epoch with both on 2 cores"
            )
        print(f"{line}; {r['bytes_per_batch'] / 1e3:.0f} KB/batch")


if __name__ == "__main__":
    main()
