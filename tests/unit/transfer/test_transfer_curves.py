"""The transfer source holds the labels, so it reports the held-out split's ROC/KS curves;
the target, which never sees a label, reports none (the policy would refuse them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn import metrics as skm

from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from vfl.api import simulate


def test_a_binary_transfer_job_carries_its_validation_curves(tmp_path: Path) -> None:
    paths = synthetic_transfer(tmp_path, rows=1000, shared=0.6)
    result = simulate(transfer_spec(transfer_dict(paths)), workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    assert set(result.curves) == {"validation"}  # held-out rows only, never "train"
    roc = result.curves["validation"]["roc"]
    area = float(skm.auc(roc["fpr"], roc["tpr"]))
    assert area == pytest.approx(result.metrics["validation"]["auc"], abs=0.03)
    ks = result.curves["validation"]["ks"]
    assert ks["ks"] <= result.metrics["validation"]["ks"] + 1e-9
