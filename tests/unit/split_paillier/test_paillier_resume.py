"""A Paillier run interrupted mid-epoch resumes from the last epoch's checkpoint.

The label holder keeps V (a buffer of its model), the feature holder keeps acc (its side's
state); keys are fresh in the resumed run and ε differs, but V + acc = W, so the resumed
run's losses equal an uninterrupted run's within the oracle's fixed-point tolerance.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import Run, run_job
from tests.unit.split_paillier.test_paillier_oracle import TOLERANCE
from vfl.runtime.events import Event, StepReport
from vfl.runtime.simulator import PartyFailedError


class CrashingRun(Run):
    """Fails the label holder's program at epoch 1, batch 2 (the power goes out)."""

    def report(self, party: str, event: Event) -> None:
        if isinstance(event, StepReport) and (event.epoch, event.batch) == (1, 2):
            raise RuntimeError("interrupted")
        super().report(party, event)


def test_paillier_training_resumes_from_checkpoint(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=160)
    train = {"protection": "paillier", "optimizer": "sgd", "learning_rate": 0.1}
    spec = job_spec(job_dict(paths, train={**train, "workers": 1, "precision_bits": 20}))
    whole = run_job(spec, tmp_path / "whole")
    with pytest.raises(PartyFailedError, match="interrupted"):
        run_job(spec, tmp_path / "resumed", run=CrashingRun())
    resumed = run_job(spec, tmp_path / "resumed")
    assert len(whole.losses) == 8 and len(resumed.losses) == 4  # epoch 1 only
    worst = max(abs(a - b) for a, b in zip(whole.losses[4:], resumed.losses, strict=True))
    assert worst < TOLERANCE, f"resumed losses differ by {worst:.2e}"
    assert resumed.metrics["validation"]["loss"] == pytest.approx(
        whole.metrics["validation"]["loss"], abs=TOLERANCE
    )
