"""Faults on real processes: kill -9 of a party or of the coordinator mid-training, a
party restart during align, and kill -9 of the coordinator mid-align (ecdh, rr22; every
party must end with the plaintext intersection). The job must finish, and (protection
"none") every party's final model must equal the simulator's uninterrupted run with the
same seed (1e-6).
With protection "paillier" the feature holder alone is killed mid-training: it must resume
under the key it kept and with the masks it derives again (replay determinism), and the
validation metrics must match the simulator's within fixed-point tolerance."""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.deployment import (
    SAMPLES,
    SLOW_START_S,
    aligned_ids,
    aligned_with,
    approve,
    assert_models_equal,
    finished,
    frozen,
    kill_and_restart,
    kill_mid_training,
    ledger,
    phase_done,
    plaintext_intersection,
    simulated,
    status,
    submit,
    wait_for_sent,
    wait_until,
)
from tests.unit.psi.harness import needs_fastpsi
from vfl.cli.local_federation import LocalFederation

pytestmark = pytest.mark.slow
EPOCHS = 10


@pytest.mark.parametrize("victim", ["lab", "hospital", "coordinator"])
def test_kill_9_mid_training_then_restart_resumes_to_the_same_model(
    victim: str, tmp_path: Path
) -> None:
    fed = LocalFederation(tmp_path / "fed", SAMPLES / "breast" / "job.toml")
    _, result = kill_mid_training(fed, victim, EPOCHS)
    oracle = simulated(
        SAMPLES / "breast" / "job.toml", tmp_path / "sim", fed, result["job_id"], epochs=EPOCHS
    )
    assert result["metrics"]["validation"] == pytest.approx(
        oracle["metrics"]["validation"], rel=1e-6
    )
    assert_models_equal(result["models"], tmp_path / "sim")


def test_party_restart_during_align(tmp_path: Path) -> None:
    """imaging is registered but offline, so align cannot finish; lab is killed inside it."""
    sample = SAMPLES / "breast_three_party" / "job.toml"
    fed = LocalFederation(tmp_path / "fed", sample)
    try:
        fed.start()
        fed.wait_connected()
        fed.stop_party("imaging")
        job_id = submit(fed, fed.job_spec(epochs=2))
        approve(fed, job_id, "imaging")
        wait_until(fed, job_id, lambda r: r.get("status") == "align")
        kill_and_restart(fed, "lab")
        fed.start_party("imaging")
        result = wait_until(fed, job_id, finished)
    finally:
        fed.stop()
    assert result["status"] == "succeeded", result.get("error")
    oracle = simulated(sample, tmp_path / "sim", fed, job_id, epochs=2)
    assert result["align"] == oracle["align"]
    assert_models_equal(result["models"], tmp_path / "sim")


PADDING = 20_000
"""Rows only the hospital has, added to its table for the mid-align test: ecdh aligns the
sample in ~0.4 s, too fast for a ledger poll to land mid-align; with these the lab
re-blinds 20,569 points (seconds of CPU) after the hospital's first ecdh.Blinded."""


def _pad_hospital(job: Path, rows: int) -> None:
    table = job.parent / "hospital.csv"
    frame = pd.read_csv(table)
    extra = frame.sample(rows, replace=True, random_state=0)
    extra["patient_id"] = [f"PAD-{i:06d}" for i in range(rows)]
    pd.concat([frame, extra]).to_csv(table, index=False)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("protocol", ["ecdh", pytest.param("rr22", marks=needs_fastpsi)])
def test_kill_9_coordinator_mid_align_then_restart_resumes_the_align(
    protocol: str, tmp_path: Path
) -> None:
    """The coordinator is killed once the hospital sent its first PSI message (ecdh: its
    blinded IDs; rr22: spu's first frame), with the lab held (SIGSTOP) so that it cannot
    have finished align, and restarted on the same port and database file. The align
    phase resumes, it does not restart: the party programs keep running through the
    outage (each node starts align once), the mail the relay had stored is delivered, and
    every party ends with the plaintext intersection, then trains."""
    job = aligned_with(protocol, "breast", tmp_path / "sample")
    _pad_hospital(job, PADDING)
    fed = LocalFederation(tmp_path / "fed", job)
    try:
        started = time.perf_counter()
        fed.start()
        fed.wait_connected(limit_s=SLOW_START_S)
        job_id = submit(fed, fed.job_spec(epochs=2))
        first = {"ecdh": "ecdh.Blinded", "rr22": "rr22.Frame"}[protocol]
        wait_for_sent(ledger(fed, "hospital"), job_id, kind_like=first)
        with frozen(fed, "lab"):
            assert not phase_done(ledger(fed, "lab"), job_id, "align")
            kill_and_restart(fed, "coordinator")
        result = wait_until(fed, job_id, finished, limit_s=480)
        print(f"kill -9 coordinator mid-align ({protocol}): {time.perf_counter() - started:.1f} s")
    finally:
        fed.stop()
    assert result["status"] == "succeeded", result.get("error")
    expected = plaintext_intersection(job)
    assert expected
    assert aligned_ids(fed, job_id) == {p: expected for p in fed.parties}
    assert result["align"]["intersection_size"] == len(expected)
    starts = {
        p: (fed.root / f"{p}.log").read_text().count(f"job {job_id}: align started")
        for p in fed.parties
    }
    assert starts == {p: 1 for p in fed.parties}


PAILLIER_EPOCHS = 3
PAILLIER_TOLERANCE = 1e-4
"""Validation metrics, deployed vs simulated. The runs use different keys, masks ε and
obfuscators, which change nothing but fixed-point rounding (f = 16: 2^-17 per encoded
value; V + acc = W to 2 ulp): two uninterrupted simulator runs of this spec differ by
1.0e-5 in validation loss and not at all in AUC, accuracy or KS. A resumed run that lost
its key or re-drew its masks fails outright (overflow or wrong key), far beyond this."""


def _tiny_paillier_sample(folder: Path) -> Path:
    """breast_paillier cut to 96 aligned rows, batches of 32: three batches an epoch."""
    source = SAMPLES / "breast_paillier"
    folder.mkdir()
    hospital = pd.read_csv(source / "hospital.csv")
    lab = pd.read_csv(source / "lab.csv")
    ids = set(hospital.patient_id) & set(lab.patient_id)
    keep = [i for i in hospital.patient_id if i in ids][:96]
    hospital[hospital.patient_id.isin(keep)].to_csv(folder / "hospital.csv", index=False)
    lab[lab.patient_id.isin(keep)].to_csv(folder / "lab.csv", index=False)
    text = (source / "job.toml").read_text()
    assert "key_bits = 2048" in text and "epochs = 8" in text and "batch_size = 128" in text
    text = text.replace("epochs = 8", f"epochs = {PAILLIER_EPOCHS}")
    (folder / "job.toml").write_text(text.replace("batch_size = 128", "batch_size = 32"))
    return folder / "job.toml"


def test_kill_9_paillier_feature_holder_mid_training_resumes_alone(tmp_path: Path) -> None:
    sample = _tiny_paillier_sample(tmp_path / "sample")
    fed = LocalFederation(tmp_path / "fed", sample)
    try:
        started = time.perf_counter()
        fed.start()
        fed.wait_connected()
        job_id = submit(fed, fed.job_spec())
        lab_db = ledger(fed, "lab")
        wait_for_sent(lab_db, job_id, "train/epoch=1/batch=1#%")  # mid-epoch 1
        before = status(fed, job_id)
        kill_and_restart(fed, "lab")  # the feature holder; the hospital waits on it
        result = wait_until(fed, job_id, finished)
        wall = time.perf_counter() - started
    finally:
        fed.stop()
    assert result["status"] == "succeeded", result.get("error")
    assert len(before["history"]) < PAILLIER_EPOCHS
    assert [h["epoch"] for h in result["history"]] == list(range(PAILLIER_EPOCHS))
    with sqlite3.connect(lab_db) as db:
        replayed = db.execute(
            "SELECT kind, COUNT(*) FROM ledger WHERE job_id = ? AND direction = 'sent' AND "
            "seq LIKE 'train/%' GROUP BY seq HAVING COUNT(*) > 1",
            (job_id,),
        ).fetchall()
    kinds = {kind for kind, _ in replayed}
    # the restarted lab redid the handshake and epoch 1's first batch under the same seqs
    assert {
        "split_paillier.PaillierKey",
        "split_paillier.EncryptedActivations",
        "split_paillier.EncryptedBackwardInputs",
        "split_paillier.UnmaskedProduct",
        "split_paillier.MaskedWeightGradient",
    } <= kinds
    private = tmp_path / "fed" / "lab" / "state" / "jobs" / job_id / "private"
    keys = sorted(private.glob("paillier-*.key"))
    assert [k.name.split("-")[1] for k in keys] == ["evaluate", "train"]
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
    print(
        f"kill -9 lab (Paillier): killed after epoch {len(before['history'])}, "
        f"{len(replayed)} envelopes re-sent ({sorted(kinds)}), wall time {wall:.1f} s"
    )
    oracle = simulated(sample, tmp_path / "sim", fed, job_id)
    assert oracle["status"] == "succeeded"
    for split in ("train", "validation"):
        assert result["metrics"][split] == pytest.approx(
            oracle["metrics"][split], abs=PAILLIER_TOLERANCE
        ), split
