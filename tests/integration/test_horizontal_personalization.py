"""Personalization by local fine-tuning: every party reports its metrics with the global
model and with its own fine-tuned copy, and keeps the personal model."""

from __future__ import annotations

from pathlib import Path

import torch

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.api import simulate


def test_each_party_reports_metrics_before_and_after_fine_tuning(tmp_path: Path) -> None:
    paths = synthetic_horizontal(tmp_path / "data", parties=3, rows=200)
    spec = horizontal_dict(
        paths, train={"personalization": "finetune", "personal_epochs": 3, "rounds": 3}
    )
    result = simulate(write_toml(tmp_path / "job.toml", spec), workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    for party in paths:
        before = result.metrics[f"validation@{party}"]
        after = result.metrics[f"validation@{party}/personal"]
        assert set(before) == set(after)
        state = torch.load(tmp_path / "run" / party / "model" / "weights.pt", weights_only=True)
        assert not torch.equal(state["params"], state["personal_params"])
    assert {"validation", "validation/personal", "train/personal"} <= set(result.metrics)
    # fine-tuning on its own rows fits each party's training rows at least as well
    assert result.metrics["train/personal"]["log_loss"] < result.metrics["train"]["log_loss"]
