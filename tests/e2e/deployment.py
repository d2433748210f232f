"""Helpers for the deployment tests: a LocalFederation, the CLI as a user runs it, and the
simulator's result for the same job as the oracle."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from vfl.api import simulate
from vfl.cli.local_federation import LocalFederation
from vfl.config.loading import load_job, parse_job
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.remote import connect
from vfl.runtime.party_secret import secret_file
from vfl.runtime.workspace import Workspace

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
VFL = [sys.executable, "-m", "vfl.cli.main"]
SLOW_START_S = 360
"""How long the nodes may take to connect in the align fault and rr22 tests: each node
imports torch first, which took over 120 s at nice 19 on a shared, loaded host."""


def vfl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VFL, *args], capture_output=True, text=True, cwd=cwd, timeout=300, check=False
    )


def submit(fed: LocalFederation, spec: Path) -> str:
    proc = vfl("job", "submit", str(spec), *fed.cli_args())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def status(fed: LocalFederation, job_id: str) -> dict[str, Any]:
    client = connect(fed.address, fed.root / "certs", "operator")
    try:
        return client.result(job_id)
    finally:
        client.close()


def wait_until(
    fed: LocalFederation, job_id: str, condition: Any, limit_s: float = 240
) -> dict[str, Any]:
    """Poll the job's result until `condition(result)`; the limit only ends a hung test."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            result = status(fed, job_id)
        except Exception:
            result = {}
        if result and condition(result):
            return result
        if time.monotonic() > deadline:
            logs = {
                n: (fed.root / f"{n}.log").read_text()[-1500:]
                for n in [*fed.parties, "coordinator"]
            }
            raise AssertionError(f"gave up waiting on job {job_id}: {result}\n{logs}")
        time.sleep(0.05)


def finished(result: dict[str, Any]) -> bool:
    return result.get("status") in ("succeeded", "failed", "cancelled")


def mid_training(result: dict[str, Any]) -> bool:
    """In training, with at least two epochs reported: a kill now lands mid-training."""
    history = result.get("history")
    return result.get("status") == "train" and isinstance(history, list) and len(history) >= 2


def approve(fed: LocalFederation, job_id: str, party: str) -> None:
    """`vfl party approve` as `party`, for a node that is offline or held."""
    config = fed.root / party / "party.toml"
    proc = vfl("party", "approve", job_id, "--config", str(config), "--yes")
    assert proc.returncode == 0, proc.stderr


def kill_and_restart(fed: LocalFederation, victim: str) -> None:
    """kill -9 `victim` (a party or "coordinator") and start it again: the coordinator on
    the same port and database file, a party with the same state folder."""
    fed.kill(victim)
    if victim == "coordinator":
        fed.start_coordinator()
    else:
        fed.start_party(victim)


def ledger(fed: LocalFederation, party: str) -> Path:
    """The party node's own SQLite: its ledger and the phases it finished."""
    return fed.root / party / "state" / "party.db"


def wait_for_sent(
    db: Path, job_id: str, seq_like: str = "%", kind_like: str = "%", limit_s: float = 240
) -> None:
    """Until the party's own ledger `db` shows it sent a message matching both patterns."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if db.exists():
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                row = conn.execute(
                    "SELECT 1 FROM ledger WHERE job_id = ? AND direction = 'sent' AND seq LIKE ?"
                    " AND kind LIKE ?",
                    (job_id, seq_like, kind_like),
                ).fetchone()
            if row:
                return
        time.sleep(0.02)
    raise AssertionError(f"{db.parent.parent.name} never sent {kind_like} as {seq_like}")


def phase_done(db: Path, job_id: str, phase: str) -> bool:
    """Whether the party whose SQLite is `db` finished `phase` of the job."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute(
            "SELECT status FROM phases WHERE job_id = ? AND phase = ?", (job_id, phase)
        ).fetchone()
    return row is not None and row[0] == "done"


@contextmanager
def frozen(fed: LocalFederation, party: str) -> Iterator[None]:
    """The party node stopped (SIGSTOP: it keeps its streams and state, does nothing)
    inside the block, continued after it whatever happens."""
    pid = fed.processes[party].pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def kill_mid_training(
    fed: LocalFederation, victim: str, epochs: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start `fed`, submit its job for `epochs`, kill -9 `victim` (a party or
    "coordinator") mid-training, start it again and wait for the end; the job's result
    when it was killed and at the end. Stops the federation whatever happens."""
    try:
        started = time.perf_counter()
        fed.start()
        fed.wait_connected()
        job_id = submit(fed, fed.job_spec(epochs=epochs))
        before = wait_until(fed, job_id, mid_training)
        kill_and_restart(fed, victim)
        result = wait_until(fed, job_id, finished)
        print(
            f"kill -9 {victim}: killed after epoch {len(before['history'])}, "
            f"wall time {time.perf_counter() - started:.1f} s"
        )
    finally:
        fed.stop()
    assert len(before["history"]) < epochs
    assert result["status"] == "succeeded", result.get("error")
    assert [h["epoch"] for h in result["history"]] == list(range(epochs))
    return before, result


def simulated(
    sample: Path,
    workdir: Path,
    fed: LocalFederation,
    job_id: str,
    deployed_spec: Path | None = None,
    **train: Any,
) -> dict[str, Any]:
    """The simulator's run of the job `fed` ran as `job_id`: same id, same party secrets
    (read from each node's workspace) bound to the same spec digest (the coordinator's
    canonical JSON of the submitted spec), so the same initial weights, masks and noise.
    `deployed_spec` is the file submitted (default: the last `fed.job_spec()` wrote)."""
    spec = load_job(sample)
    spec = spec.model_copy(update={"train": spec.train.model_copy(update=train)})
    secrets = {
        p.name: (
            fed.root / p.name / "state" / "jobs" / job_id / "private" / secret_file(job_id)
        ).read_bytes()
        for p in spec.parties
    }
    deployed = parse_job(tomllib.loads((deployed_spec or fed.root / "job.toml").read_text()), "job")
    return simulate(
        spec,
        workdir=workdir,
        job_id=job_id,
        party_secrets=secrets,
        spec_digest=job_digest(deployed.model_dump_json()),
    ).to_dict()


def model_state(folder: Path) -> dict[str, Any]:
    state: dict[str, Any] = torch.load(folder / "weights.pt", weights_only=True)
    return state


def assert_models_equal(deployed: dict[str, str], simulated_root: Path, tol: float = 1e-6) -> None:
    for party, path in deployed.items():
        got, want = model_state(Path(path)), model_state(simulated_root / party / "model")
        _assert_close(got, want, tol, party)


def _assert_close(got: Any, want: Any, tol: float, where: str) -> None:
    if isinstance(want, dict):
        assert set(got) == set(want), where
        for key in want:
            _assert_close(got[key], want[key], tol, f"{where}.{key}")
    elif isinstance(want, torch.Tensor):
        assert torch.allclose(got, want, atol=tol, rtol=0), f"{where} differs"
    else:
        assert got == want, where


def plaintext_intersection(sample: Path) -> list[str]:
    """The oracle of every align test: the IDs all parties of the sample job share, read
    from its CSVs in plaintext and sorted (the order every party saves them in)."""
    spec = tomllib.loads(sample.read_text())
    ids = [
        set(pd.read_csv(sample.parent / p["data"], dtype=str)[p["id_column"]])
        for p in spec["parties"]
    ]
    return sorted(set.intersection(*ids))


def aligned_with(protocol: str, sample: str, folder: Path) -> Path:
    """A copy of `samples/<sample>` in `folder` whose job aligns with `protocol`; the job
    file (LocalFederation makes each party's policy from it, so they accept it)."""
    shutil.copytree(SAMPLES / sample, folder)
    job = folder / "job.toml"
    text = job.read_text()
    assert 'protocol = "ecdh"' in text
    job.write_text(text.replace('protocol = "ecdh"', f'protocol = "{protocol}"'))
    return job


def aligned_ids(fed: LocalFederation, job_id: str) -> dict[str, list[str]]:
    """By party: the IDs its node saved as the job's aligned rows."""
    return {
        p: list(Workspace(fed.root / p / "state" / "jobs" / job_id).load_alignment())
        for p in fed.parties
    }


def dump(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=1)[:3000]
