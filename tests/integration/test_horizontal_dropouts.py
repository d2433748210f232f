"""Secure aggregation in whole horizontal jobs: a party that goes silent at a step of a
round is dropped from that round and the job goes on (its masks are removed with the
others' shares), with float or int8 inputs; client-level DP reports the ε the accountant
gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.algorithms.horizontal.client_dp import epsilon
from vfl.api import simulate
from vfl.result import JobResult
from vfl.runtime.context import PartyContext


def _simulate(tmp: Path, spec: dict[str, Any]) -> JobResult:
    tmp.mkdir(parents=True, exist_ok=True)
    path = write_toml(tmp / "job.toml", spec)
    return simulate(path, workdir=tmp / "run")


INPUTS = {"none": "MaskedInput", "int8": "MaskedLevels"}
"""The masked input's message, by compression."""


@pytest.mark.parametrize("compression", ["none", "int8"])
@pytest.mark.parametrize("stage", ["before_input", "before_unmask"])
def test_a_party_silent_mid_round_is_dropped_and_the_job_goes_on(
    stage: str, compression: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """site-c stops answering in round 1 (after its shares, or after its masked input).
    Three parties, threshold 2: the round completes; before_input counts two updates."""
    paths = synthetic_horizontal(tmp_path / "data")
    real_send = PartyContext.send

    def silent(self: Any, to: str, msg: object) -> None:
        if self.party == "site-c" and "round=1" in self.scope:
            kind = type(msg).__name__
            masked = kind == INPUTS[compression]
            if (stage == "before_input" and masked) or kind == "UnmaskShares":
                return  # gone quiet: nothing more this round
        real_send(self, to, msg)

    monkeypatch.setattr(PartyContext, "send", silent)
    train: dict[str, Any] = {"round_timeout_s": 10, "rounds": 3, "compression": compression}
    if compression == "int8":
        train["int8_bound"] = 16.0
    result = _simulate(tmp_path, horizontal_dict(paths, train=train))
    assert result.status == "succeeded", result.error
    counted = [h["parties"] for h in result.history]
    assert counted == [3.0, 2.0 if stage == "before_input" else 3.0, 3.0]


def test_more_dropouts_than_the_threshold_fail_the_round_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = synthetic_horizontal(tmp_path / "data")
    real_send = PartyContext.send

    def silent(self: Any, to: str, msg: object) -> None:
        if self.party in ("site-b", "site-c") and type(msg).__name__ == "MaskedInput":
            return
        real_send(self, to, msg)

    monkeypatch.setattr(PartyContext, "send", silent)
    spec = horizontal_dict(paths, train={"round_timeout_s": 10, "timeout_s": 20, "rounds": 2})
    result = _simulate(tmp_path, spec)
    assert result.status == "failed"
    assert "1 of 3 parties sent their input, fewer than the threshold 2" in (result.error or "")


def test_client_level_dp_reports_the_accountants_epsilon(tmp_path: Path) -> None:
    paths = synthetic_horizontal(tmp_path / "data")
    spec = horizontal_dict(paths, privacy={"noise_multiplier": 1.5, "clip": 0.5})
    result = _simulate(tmp_path, spec)
    assert result.status == "succeeded", result.error
    spent = result.privacy.epsilon["client_level"]
    assert spent == pytest.approx(epsilon(1.5, 1.0, 3, 1e-5))
    calibrated = horizontal_dict(paths, privacy={"client_dp_epsilon": 20.0})
    result = _simulate(tmp_path / "calibrated", calibrated)
    assert result.status == "succeeded", result.error
    assert result.privacy.epsilon["client_level"] <= 20.0
    assert np.isfinite(result.metrics["validation"]["auc"])


def test_dp_sgd_at_every_party_reports_each_partys_epsilon_from_opacus(tmp_path: Path) -> None:
    """Record-level DP-SGD with a target ε: each party's accountant reports at most it;
    with client-level DP too, both mechanisms are in the result."""
    paths = synthetic_horizontal(tmp_path / "data")
    spec = horizontal_dict(
        paths,
        privacy={"dp_sgd_epsilon": 5.0, "dp_sgd_clip": 1.0, "noise_multiplier": 0.8},
        train={"rounds": 2},
    )
    result = _simulate(tmp_path, spec)
    assert result.status == "succeeded", result.error
    spent = {k: v for k, v in result.privacy.epsilon.items() if k.startswith("record_level@")}
    assert sorted(spent) == [f"record_level@{p}" for p in sorted(paths)]
    assert all(0 < v <= 5.0 * 1.01 for v in spent.values())  # Opacus calibrates within 1%
    assert set(result.privacy.mechanisms) == {"dp_sgd", "client_dp"}
    assert result.privacy.epsilon["client_level"] == pytest.approx(epsilon(0.8, 1.0, 2, 1e-5))
