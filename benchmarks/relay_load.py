"""The relay under load and under a fault: 20 party nodes and 10 concurrent vertical jobs
through one coordinator, every node its own `vfl` process on 127.0.0.1 (gRPC + mTLS,
bodies sealed), first with a SQLite store, then with PostgreSQL.

Per store, on one federation (tests' LocalFederation), four runs in order:
- cold: the 10 jobs at once, each node's first (it loads its programs' code); reported,
  not compared;
- alone: job 0 by itself, the latency baseline;
- concurrent: the 10 jobs at once; relayed messages per second, p50 / p99 delivery
  latency (the relay storing an envelope to its addressee confirming it, from the
  coordinator's `vfl_coordinator_delivery_seconds` histogram on its [metrics] endpoint,
  interpolated inside buckets as PromQL does), the coordinator's peak RSS (VmHWM); its
  models are checked against the simulator's too (below), so both runs have one oracle;
- fault: the 10 jobs again, the coordinator kill -9'd once half of them train, restarted
  on the same address and store. Every job must succeed with the model and validation
  metrics of the simulator's uninterrupted run of the same job (same id and party secrets:
  tests/e2e/test_faults.py's oracle), exactly if it can, else within its 1e-6; every
  message in the senders' ledgers must have been read exactly once by its recipient (the
  recipients' ledgers), and each job must have read as many messages as in the
  concurrent run, the fault-free baseline.
Job shape: samples/breast (569 rows; hospital: label + 10 features, lab: 20), ECDH align,
split_nn 32-16 / 16, protection "none", B = 64, --epochs (default 4). Job i runs between
hospital<i> and lab<i>. One total deadline: past it the run fails, saying where.

    PYTHONPATH=. .venv/bin/python -m benchmarks.relay_load [--jobs 10] [--epochs 4]
        [--postgres URL]  (default: $VFL_TEST_POSTGRES_URL; without one the row is skipped)
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import socket
import sqlite3
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from benchmarks.common import write_result
from benchmarks.relay_check import Route, check_delivery
from benchmarks.relay_probe import (
    Deadline,
    Scrape,
    cpu_seconds,
    peak_rss_mb,
    postgres_database,
    scrape,
)
from tests.e2e.deployment import SAMPLES, assert_models_equal, simulated
from tests.factories import write_toml
from vfl.cli.local_federation import DATASET, LocalFederation
from vfl.config.phase_plan import TERMINAL, JobState
from vfl.errors import PeerUnavailableError, VflError
from vfl.remote import CoordinatorClient, connect

COORDINATOR = "coordinator"
BREAST = SAMPLES / "breast" / "job.toml"


def write_jobs(folder: Path, jobs: int) -> tuple[Path, list[Path]]:
    """`jobs` copies of the breast sample, copy i between hospital<i> and lab<i>, and the
    federation file naming all their parties (what LocalFederation starts nodes from)."""
    folder.mkdir()
    base = tomllib.loads(BREAST.read_text())
    samples, parties = [], []
    for i in range(jobs):
        spec = copy.deepcopy(base)
        for party in spec["parties"]:
            party["name"] = f"{party['name']}{i}"
            party["data"] = str((BREAST.parent / party["data"]).resolve())
        samples.append(write_toml(folder / f"job{i}.toml", spec))
        parties += spec["parties"]
    return write_toml(folder / "federation.toml", {**base, "parties": parties}), samples


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoadRun:
    """One store's federation: its nodes, its jobs' specs, its metrics endpoint."""

    def __init__(self, root: Path, database: str, jobs: int, epochs: int) -> None:
        root.mkdir(parents=True)
        federation, self.samples = write_jobs(root / "samples", jobs)
        port = free_port()
        self.metrics_url = f"http://127.0.0.1:{port}/metrics"
        self.fed = LocalFederation(
            root / "fed",
            federation,
            database=database,
            coordinator_toml=f'[metrics]\nenabled = true\nlisten = "127.0.0.1:{port}"\n',
        )
        self.epochs = epochs
        self.deployed = [
            self.fed.named_data_spec(s, DATASET, f"job{i}.toml", train={"epochs": epochs})
            for i, s in enumerate(self.samples)
        ]
        self.peak_rss_mb = 0.0

    def client(self) -> CoordinatorClient:
        return connect(self.fed.address, self.fed.root / "certs", "operator")

    def note_rss(self) -> None:
        proc = self.fed.processes.get(COORDINATOR)
        if proc is not None:
            self.peak_rss_mb = max(self.peak_rss_mb, peak_rss_mb(proc.pid))

    def run(self, indices: list[int], deadline: Deadline, kill: bool = False) -> dict[str, Any]:
        """Submit jobs `indices` at once and wait for all; with `kill`, kill -9 and restart
        the coordinator once half of them train."""
        before, carried = scrape(self.metrics_url), Scrape.zero()
        client = self.client()
        pid = self.fed.processes[COORDINATOR].pid
        cpu = cpu_seconds(pid)
        started = time.monotonic()
        ids = [client.submit(self.deployed[i].read_text()) for i in indices]
        states: dict[str, str] = {}
        at_kill: dict[str, int] = {}
        while True:
            deadline.check(f"waiting for jobs {indices} (states {sorted(states.values())})")
            try:
                states = {j: client.job(j).state for j in ids}
            except (PeerUnavailableError, VflError):
                client.close()
                time.sleep(0.2)
                client = self.client()
                continue
            self.note_rss()
            if all(s in TERMINAL for s in states.values()):
                break
            training = sum(s == JobState.TRAIN for s in states.values())
            if kill and not at_kill and training >= max(1, len(ids) // 2):
                carried = scrape(self.metrics_url).minus(before)  # the new process starts at 0
                before = Scrape.zero()
                at_kill = {s: list(states.values()).count(s) for s in set(states.values())}
                self.fed.kill(COORDINATOR)
                self.fed.start_coordinator()  # same address (port), same store
            time.sleep(0.1)
        wall = time.monotonic() - started
        used = None if kill else round(cpu_seconds(pid) - cpu, 2)  # the killed one is gone
        total = scrape(self.metrics_url).minus(before).plus(carried)
        results = {j: client.result(j) for j in ids}
        client.close()
        failed = {j: r.get("error") for j, r in results.items() if r.get("status") != "succeeded"}
        if failed:
            raise AssertionError(f"jobs did not succeed: {failed}")
        return {
            "jobs": len(ids),
            "ids": ids,
            "wall_s": round(wall, 2),
            "states_at_kill": at_kill,
            "coordinator_cpu_s": used,
            **total.summary(wall),
            "results": results,
        }

    def ledgers(self, ids: list[str]) -> tuple[list[Route], list[Route]]:
        """Every party's ledger rows for `ids`: (sent, received), as routes."""
        sent: list[Route] = []
        received: list[Route] = []
        for party in self.fed.parties:
            path = self.fed.root / party / "state" / "party.db"
            marks = ",".join("?" * len(ids))
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
                rows = db.execute(
                    "SELECT job_id, direction, peer, kind, seq FROM ledger "
                    f"WHERE job_id IN ({marks})",
                    ids,
                ).fetchall()
            for job, direction, peer, kind, seq in rows:
                if direction == "sent":
                    sent.append(Route(job, party, peer, kind, seq))
                else:
                    received.append(Route(job, peer, party, kind, seq))
        return sent, received

    def same_as_oracle(self, run: dict[str, Any], indices: list[int], workdir: Path) -> str:
        """Each job's models and validation metrics vs the simulator's uninterrupted run
        of it; the tolerance that held ("exact" or "1e-6")."""
        held = "exact"
        for i, job_id in zip(indices, run["ids"], strict=True):
            result, sim = run["results"][job_id], workdir / f"sim{i}"
            oracle = simulated(
                self.samples[i], sim, self.fed, job_id, self.deployed[i], epochs=self.epochs
            )
            try:
                assert result["metrics"]["validation"] == oracle["metrics"]["validation"]
                assert_models_equal(result["models"], sim, tol=0.0)
            except AssertionError:
                held = "1e-6"
                assert_models_equal(result["models"], sim, tol=1e-6)
        return held


def delivery(load: LoadRun, run: dict[str, Any]) -> dict[str, Any]:
    sent, received = load.ledgers(run["ids"])
    check = check_delivery(sent, received)
    per_job = {j: sum(r.job_id == j for r in received) for j in run["ids"]}
    return {**check.__dict__, "ok": check.ok, "read_per_job": list(per_job.values())}


def one_store(name: str, root: Path, database: str, args: argparse.Namespace) -> dict[str, Any]:
    deadline = Deadline(args.deadline_s, started=args.started)
    load = LoadRun(root, database, args.jobs, args.epochs)
    everyone = list(range(args.jobs))
    try:
        began = time.monotonic()
        load.fed.start()
        load.fed.wait_connected(limit_s=deadline.left("starting the nodes"))
        up_s = time.monotonic() - began
        print(f"{name}: {len(load.fed.parties)} nodes connected in {up_s:.1f} s", flush=True)
        cold = load.run(everyone, deadline)  # each node's first job loads its code
        print(f"{name} cold: {brief(cold)}", flush=True)
        alone = load.run([0], deadline)
        print(f"{name} alone: {brief(alone)}", flush=True)
        concurrent = load.run(everyone, deadline)
        print(f"{name} concurrent: {brief(concurrent)}", flush=True)
        no_fault_rss = load.peak_rss_mb
        fault = load.run(everyone, deadline, kill=True)
        print(f"{name} fault: {brief(fault)}", flush=True)
        checks = {"concurrent": delivery(load, concurrent), "fault": delivery(load, fault)}
    finally:
        load.fed.stop()
    checks["fault"]["same_reads_as_concurrent"] = (
        checks["fault"]["read_per_job"] == checks["concurrent"]["read_per_job"]
    )
    tolerance = {
        "concurrent": load.same_as_oracle(concurrent, everyone, root / "oracle-concurrent"),
        "fault": load.same_as_oracle(fault, everyone, root / "oracle-fault"),
    }
    print(f"{name}: models equal to the uninterrupted oracle ({tolerance})", flush=True)
    if not (checks["fault"]["ok"] and checks["concurrent"]["ok"]):
        raise AssertionError(f"{name}: messages lost or read twice: {checks}")
    if not checks["fault"]["same_reads_as_concurrent"]:
        raise AssertionError(f"{name}: the fault run read other counts: {checks}")
    for run in (cold, alone, concurrent, fault):
        del run["results"], run["ids"]
    return {
        "nodes": len(load.fed.parties),
        "nodes_up_s": round(up_s, 1),
        "cold": cold,
        "alone": alone,
        "concurrent": concurrent,
        "fault": {**fault, "models_vs_oracle": tolerance["fault"], "delivery": checks["fault"]},
        "concurrent_models_vs_oracle": tolerance["concurrent"],
        "concurrent_delivery": checks["concurrent"],
        "coordinator_peak_rss_mb": round(no_fault_rss, 1),
        "coordinator_peak_rss_mb_after_restart": round(load.peak_rss_mb, 1),
        "p99_concurrent_over_alone": ratio(concurrent["p99_ms"], alone["p99_ms"]),
        "msgs_per_s_fault_over_concurrent": ratio(fault["msgs_per_s"], concurrent["msgs_per_s"]),
    }


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b and not (math.isnan(a) or math.isnan(b)) else None


def brief(run: dict[str, Any]) -> str:
    return (
        f"{run['jobs']} jobs in {run['wall_s']} s, {run['delivered']} messages, "
        f"{run['msgs_per_s']} msgs/s, p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--postgres", default=os.environ.get("VFL_TEST_POSTGRES_URL", ""))
    parser.add_argument("--deadline-s", type=float, default=1800, help="for the whole run")
    args = parser.parse_args()
    args.started = time.monotonic()
    stores: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stores["sqlite"] = one_store(
            "sqlite", Path(tmp) / "sqlite", "sqlite:///coordinator.db", args
        )
        if args.postgres:
            with postgres_database(args.postgres) as url:
                stores["postgresql"] = one_store("postgresql", Path(tmp) / "pg", url, args)
        else:
            reason = "no --postgres URL and no VFL_TEST_POSTGRES_URL"
            print(f"postgresql: skipped ({reason})", flush=True)
            stores["postgresql"] = {"skipped": reason}
    path = write_result(
        "relay_load",
        {
            "job_shape": (
                f"samples/breast, {args.jobs} vertical jobs x 2 parties (hospital<i>, lab<i>), "
                f"ECDH align, split_nn 32-16/16, protection none, sealed, B=64, "
                f"{args.epochs} epochs"
            ),
            "transport": "gRPC + mTLS on 127.0.0.1, every node and the coordinator a process",
            "latency": "relay stored -> addressee confirmed, from the coordinator histogram "
            "vfl_coordinator_delivery_seconds (bucket-interpolated)",
            "baselines": "alone (1 job) for concurrent latency; concurrent (no fault) for the "
            "fault run's reads per job; the simulator's uninterrupted run for its models",
            "stores": stores,
        },
    )
    print(f"relay_load -> {path}")


if __name__ == "__main__":
    main()
