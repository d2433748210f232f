"""Faults on real processes: kill -9 of a party or of the coordinator mid-training, and a
party restart during align. The job must finish, and (protection "none") every party's
final model must equal the simulator's uninterrupted run with the same seed (1e-6)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.deployment import (
    SAMPLES,
    assert_models_equal,
    finished,
    simulated,
    submit,
    vfl,
    wait_until,
)
from vfl.cli.local_federation import LocalFederation

pytestmark = pytest.mark.slow
EPOCHS = 10


def _mid_training(result: dict[str, object]) -> bool:
    history = result.get("history")
    return result.get("status") == "train" and isinstance(history, list) and len(history) >= 2


@pytest.mark.parametrize("victim", ["lab", "hospital", "coordinator"])
def test_kill_9_mid_training_then_restart_resumes_to_the_same_model(
    victim: str, tmp_path: Path
) -> None:
    fed = LocalFederation(tmp_path / "fed", SAMPLES / "breast" / "job.toml")
    try:
        started = time.perf_counter()
        fed.start()
        fed.wait_connected()
        job_id = submit(fed, fed.job_spec(epochs=EPOCHS))
        before = wait_until(fed, job_id, _mid_training)
        fed.kill(victim)
        if victim == "coordinator":
            fed.start_coordinator()  # same port, same database file
        else:
            fed.start_party(victim)
        result = wait_until(fed, job_id, finished)
        print(
            f"kill -9 {victim}: killed after epoch {len(before['history'])}, "
            f"wall time {time.perf_counter() - started:.1f} s"
        )
    finally:
        fed.stop()
    assert len(before["history"]) < EPOCHS
    assert result["status"] == "succeeded", result.get("error")
    assert [h["epoch"] for h in result["history"]] == list(range(EPOCHS))
    oracle = simulated(SAMPLES / "breast" / "job.toml", tmp_path / "sim", epochs=EPOCHS)
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
        approve = vfl(
            "party", "approve", job_id, "--config", str(fed.root / "imaging" / "party.toml")
        )
        assert approve.returncode == 0, approve.stderr
        wait_until(fed, job_id, lambda r: r.get("status") == "align")
        fed.kill("lab")
        fed.start_party("lab")
        fed.start_party("imaging")
        result = wait_until(fed, job_id, finished)
    finally:
        fed.stop()
    assert result["status"] == "succeeded", result.get("error")
    oracle = simulated(sample, tmp_path / "sim", epochs=2)
    assert result["align"] == oracle["align"]
    assert_models_equal(result["models"], tmp_path / "sim")
