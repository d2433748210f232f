"""kill -9 of either transfer party mid-training over real processes: the restarted node
resumes from its last finished epoch, re-sends under the same sequence numbers, and the
job ends with the models, metrics and predictions of the simulator's uninterrupted run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.deployment import (
    SAMPLES,
    assert_models_equal,
    kill_mid_training,
    simulated,
)
from vfl.cli.local_federation import LocalFederation

pytestmark = pytest.mark.slow
SAMPLE = SAMPLES / "transfer" / "job.toml"
PAILLIER = SAMPLES / "transfer" / "job_paillier.toml"
"""Under Paillier the restarted party reloads its phase key (phase_keys.py) and replays
byte-identical exchanges (masks and obfuscators from its secret and the batch's scope)."""
EPOCHS = 12


@pytest.mark.parametrize(
    ("victim", "sample"),
    [("clinic", SAMPLE), ("hospital", SAMPLE), ("clinic", PAILLIER), ("hospital", PAILLIER)],
    ids=["clinic-plain", "hospital-plain", "clinic-paillier", "hospital-paillier"],
)
def test_kill_9_of_a_transfer_party_mid_training_resumes_to_the_same_model(
    victim: str, sample: Path, tmp_path: Path
) -> None:
    fed = LocalFederation(tmp_path / "fed", sample)
    _, result = kill_mid_training(fed, victim, EPOCHS)
    oracle = simulated(sample, tmp_path / "sim", fed, result["job_id"], epochs=EPOCHS)
    assert result["metrics"]["validation"] == pytest.approx(
        oracle["metrics"]["validation"], rel=1e-6
    )
    assert_models_equal(result["models"], tmp_path / "sim")
    got = pd.read_csv(result["outputs"]["clinic"]["predictions"])
    want = pd.read_csv(oracle["outputs"]["clinic"]["predictions"])
    assert got["score"].to_numpy() == pytest.approx(want["score"].to_numpy(), abs=1e-6)
