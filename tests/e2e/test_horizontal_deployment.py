"""A horizontal job on real processes (`vfl coordinator serve`, one `vfl party serve` per
clinic of samples/breast_horizontal, gRPC + mTLS): the coordinator hosts the aggregator,
secure aggregation on. The job succeeds with the simulator's model for the same secrets
(1e-4, secure aggregation's fixed point); after kill -9 of the coordinator mid-training and
a restart, its aggregator resumes after the last round it checkpointed (no finished round
is run again) and the job still ends with that model."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.e2e.deployment import SAMPLES, finished, submit, wait_until
from vfl.api import simulate
from vfl.cli.local_federation import LocalFederation
from vfl.config.job_spec import horizontal
from vfl.config.loading import load_job, parse_job
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.runtime.party_secret import secret_file

pytestmark = pytest.mark.slow
SAMPLE = SAMPLES / "breast_horizontal" / "job.toml"
ROUNDS = 4
"""Fewer than the sample's 10: enough to kill mid-training and resume, at CI's budget."""
COORDINATOR = "coordinator"


def _hosted(fed: LocalFederation, job_id: str) -> Path:
    """The coordinator's folder of the job (coordinator.toml's default state_dir)."""
    return fed.root / "coordinator-state" / "jobs" / job_id


def _assert_simulator_model(fed: LocalFederation, job_id: str, workdir: Path) -> None:
    """The simulator's run with the deployed participants' secrets gives the same model."""
    folders = {name: fed.root / name / "state" / "jobs" / job_id for name in fed.parties}
    folders[COORDINATOR] = _hosted(fed, job_id)
    files = {n: f / "private" / secret_file(job_id) for n, f in folders.items()}
    secrets = {n: path.read_bytes() for n, path in files.items() if path.exists()}
    assert set(fed.parties) <= set(secrets)
    deployed = parse_job(tomllib.loads((fed.root / "job.toml").read_text()), "job")
    sample = horizontal(load_job(SAMPLE))
    short = sample.model_copy(update={"train": sample.train.model_copy(update={"rounds": ROUNDS})})
    oracle = simulate(
        short.with_base_dir(sample.base_dir),
        workdir=workdir,
        job_id=job_id,
        party_secrets=secrets,
        spec_digest=job_digest(deployed.model_dump_json()),
    )
    assert oracle.status == "succeeded", oracle.error
    got = np.load(_hosted(fed, job_id) / "model" / "weights.npz")["params"]
    want = np.load(workdir / COORDINATOR / "model" / "weights.npz")["params"]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def _mid_training(result: dict[str, Any]) -> bool:
    history = result.get("history")
    return result.get("status") == "train" and isinstance(history, list) and len(history) >= 2


def _round_starts_sent(fed: LocalFederation, job_id: str) -> dict[int, int]:
    """round -> RoundStart envelopes the hosted aggregator's ledger records as sent."""
    db = sqlite3.connect(fed.root / "coordinator-state" / "hosted.db")
    try:
        rows = db.execute(
            "SELECT seq FROM ledger WHERE job_id = ? AND direction = 'sent' "
            "AND kind LIKE '%RoundStart'",
            (job_id,),
        ).fetchall()
    finally:
        db.close()
    counts: dict[int, int] = {}
    for (seq,) in rows:  # "train/round=3#0"
        scope = seq.split("#")[0]
        if scope.startswith("train/round="):
            r = int(scope.removeprefix("train/round="))
            counts[r] = counts.get(r, 0) + 1
    return counts


def test_horizontal_job_succeeds_with_the_aggregator_in_the_coordinator(tmp_path: Path) -> None:
    fed = LocalFederation(tmp_path / "fed", SAMPLE)
    try:
        fed.start()
        fed.wait_connected()
        job_id = submit(fed, fed.job_spec(rounds=ROUNDS))
        result = wait_until(fed, job_id, finished, limit_s=600)
    finally:
        fed.stop()
    assert result["status"] == "succeeded", result.get("error")
    assert [h["epoch"] for h in result["history"]] == list(range(ROUNDS))
    assert "auc" in result["metrics"]["validation"]
    _assert_simulator_model(fed, job_id, tmp_path / "sim")


def test_coordinator_kill_9_mid_training_resumes_after_the_last_finished_round(
    tmp_path: Path,
) -> None:
    fed = LocalFederation(tmp_path / "fed", SAMPLE)
    try:
        fed.start()
        fed.wait_connected()
        job_id = submit(fed, fed.job_spec(rounds=ROUNDS))
        before = wait_until(fed, job_id, _mid_training, limit_s=600)
        fed.kill(COORDINATOR)
        checkpoint = _hosted(fed, job_id) / "checkpoints" / "aggregator.npz"
        with np.load(checkpoint) as saved:
            last = int(saved["round"])  # the last round the aggregator finished
        sent_before = _round_starts_sent(fed, job_id)
        fed.start_coordinator()  # same port, same database and state folder
        result = wait_until(fed, job_id, finished, limit_s=600)
    finally:
        fed.stop()
    assert len(before["history"]) < ROUNDS and last < ROUNDS - 1
    assert result["status"] == "succeeded", result.get("error")
    assert [h["epoch"] for h in result["history"]] == list(range(ROUNDS))
    sent = _round_starts_sent(fed, job_id)
    clinics = len(fed.parties)
    # rounds up to the checkpoint ran once; the restart began with the next one
    assert all(sent[r] == clinics for r in range(last + 1)), (last, sent)
    assert sent[last + 1] == sent_before.get(last + 1, 0) + clinics, (last, sent)
    assert all(sent[r] == clinics for r in range(last + 2, ROUNDS)), (last, sent)
    _assert_simulator_model(fed, job_id, tmp_path / "sim")


def test_a_sample_holder_killed_mid_round_rejoins_from_its_checkpoint(tmp_path: Path) -> None:
    """kill -9 of clinic-3 mid-training: the round waits for it (round_timeout_s), the
    restarted node resumes after its last finished round and re-sends the same masked
    messages, so no update is counted twice and the job ends with the simulator's model."""
    fed = LocalFederation(tmp_path / "fed", SAMPLE)
    try:
        fed.start()
        fed.wait_connected()
        job_id = submit(fed, fed.job_spec(rounds=ROUNDS))
        before = wait_until(fed, job_id, _mid_training, limit_s=600)
        fed.kill("clinic-3")
        fed.start_party("clinic-3")
        result = wait_until(fed, job_id, finished, limit_s=600)
    finally:
        fed.stop()
    assert len(before["history"]) < ROUNDS
    assert result["status"] == "succeeded", result.get("error")
    assert [h["parties"] for h in result["history"]] == [5.0] * ROUNDS  # each counted once
    _assert_simulator_model(fed, job_id, tmp_path / "sim")


def test_dp_and_a_dropout_over_real_processes(tmp_path: Path) -> None:
    """Client-level DP and DP-SGD on, secure aggregation on; clinic-5 is killed mid-training
    and stays down for a while: rounds go on without it (its masks removed from the sum,
    the history counts 4 parties), then it restarts and rejoins for the rest and for
    evaluation. Each mechanism's ε is in the result."""
    fed = LocalFederation(tmp_path / "fed", SAMPLE)
    try:
        fed.start()
        fed.wait_connected()
        spec = fed.job_spec(rounds=6, round_timeout_s=15)
        text = spec.read_text() + "\n[privacy]\nnoise_multiplier = 0.5\nclip = 5.0\n"
        spec.write_text(text + "dp_sgd_noise_multiplier = 0.5\n")
        job_id = submit(fed, spec)
        wait_until(fed, job_id, _mid_training, limit_s=600)
        fed.kill("clinic-5")
        wait_until(
            fed, job_id, lambda r: any(h["parties"] == 4.0 for h in r.get("history", [])), 600
        )
        fed.start_party("clinic-5")
        result = wait_until(fed, job_id, finished, limit_s=600)
    finally:
        fed.stop()
    assert result["status"] == "succeeded", result.get("error")
    assert 4.0 in [h["parties"] for h in result["history"]]
    epsilon = result["privacy"]["epsilon"]
    assert epsilon["client_level"] > 0
    assert {f"record_level@clinic-{i}" for i in range(1, 6)} <= set(epsilon)
    assert set(result["privacy"]["mechanisms"]) == {"client_dp", "dp_sgd"}
