"""A party's own disk fault, over real processes: the job fails at once naming that party
(not its healthy peer, and with no local path in what is reported), the node does not
loop reconnecting, and once the fault is fixed a restarted node and `vfl job resume`
finish the job from the checkpoints, with the model of an uninterrupted run.

The fault is real, not injected into the product: the feature holder's checkpoint folder
is replaced by a file while it trains, so its next checkpoint write fails (OSError), as a
full or unmounted disk would. The fix is to put the folder back.
"""

from __future__ import annotations

import shutil
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
EPOCHS = 6


def _connections(log: Path) -> int:
    return log.read_text(errors="replace").count("connected to the coordinator at")


def test_a_local_disk_fault_fails_fast_naming_the_party_and_resumes_once_fixed(
    tmp_path: Path,
) -> None:
    sample = SAMPLES / "breast" / "job.toml"
    fed = LocalFederation(tmp_path / "fed", sample)
    try:
        fed.start()
        fed.wait_connected()
        job_id = submit(fed, fed.job_spec(epochs=EPOCHS))
        before = wait_until(
            fed, job_id, lambda r: r.get("status") == "train" and len(r.get("history", [])) >= 2
        )
        checkpoints = fed.root / "lab" / "state" / "jobs" / job_id / "checkpoints"
        aside = checkpoints.with_name("checkpoints.aside")
        checkpoints.rename(aside)
        checkpoints.write_bytes(b"")  # the next checkpoint write fails: a broken disk
        failed = wait_until(fed, job_id, finished)
        connections = _connections(fed.root / "lab.log")

        checkpoints.unlink()  # the operator fixes the disk
        aside.rename(checkpoints)
        fed.kill("lab")
        fed.start_party("lab")
        fed.wait_connected()
        resumed = vfl("job", "resume", job_id, *fed.cli_args())
        result = wait_until(fed, job_id, finished)
    finally:
        fed.stop()
    assert failed["status"] == "failed"
    error = failed["error"]
    assert error.startswith("party lab failed train: lab cannot write its local state: "), error
    assert "hospital" not in error and str(tmp_path) not in error
    assert connections == 1  # the fault did not become a reconnect loop
    assert len(before["history"]) < EPOCHS
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == f"{job_id}: train"
    assert result["status"] == "succeeded", result.get("error")
    assert [h["epoch"] for h in result["history"]] == list(range(EPOCHS))
    oracle = simulated(sample, tmp_path / "sim", fed, job_id, epochs=EPOCHS)
    assert result["metrics"]["validation"] == pytest.approx(
        oracle["metrics"]["validation"], rel=1e-6
    )
    assert_models_equal(result["models"], tmp_path / "sim")
    shutil.rmtree(tmp_path / "sim", ignore_errors=True)
