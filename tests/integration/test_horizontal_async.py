"""Buffered asynchronous aggregation (FedBuff) in whole jobs: with a buffer as large as the
federation and no party late it is synchronous FedAvg (the oracle); with a slow party the
job goes on without waiting for it, its updates counted with their staleness."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.algorithms.horizontal import buffered
from vfl.api import simulate
from vfl.config.loading import load_job
from vfl.errors import ConfigError
from vfl.runtime.context import PartyContext

JOB = "async-test"


def _run(tmp: Path, spec: dict[str, Any], keys: dict[str, bytes]) -> tuple[Any, np.ndarray]:
    tmp.mkdir(parents=True, exist_ok=True)
    path = write_toml(tmp / "job.toml", spec)
    same = b"\x03" * 32  # both runs draw the same batches (secrets bind the spec's digest)
    result = simulate(path, workdir=tmp / "run", job_id=JOB, party_secrets=keys, spec_digest=same)
    assert result.status == "succeeded", result.error
    with np.load(tmp / "run" / "coordinator" / "model" / "weights.npz") as stored:
        return result, stored["params"].copy()


def test_a_full_buffer_without_stragglers_is_synchronous_fedavg(tmp_path: Path) -> None:
    paths = synthetic_horizontal(tmp_path / "data", parties=3)
    keys = {n: secrets.token_bytes(32) for n in [*paths, "coordinator"]}
    train = {"secure_aggregation": False, "rounds": 3}
    _, sync = _run(tmp_path / "sync", horizontal_dict(paths, train=train), keys)
    asynchronous = {**train, "asynchronous": True, "buffer_size": 3}
    result, async_params = _run(
        tmp_path / "async", horizontal_dict(paths, train=asynchronous), keys
    )
    assert np.allclose(async_params, sync, rtol=1e-9, atol=1e-12)
    assert [h["mean_staleness"] for h in result.history] == [0.0, 0.0, 0.0]


def test_a_slow_party_does_not_hold_the_others_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """site-c takes a while for every update; with a buffer of 2 the aggregator steps on
    the others' updates and uses site-c's when they come, stale."""
    paths = synthetic_horizontal(tmp_path / "data", parties=4)
    real = buffered.participate

    def slow(ctx: PartyContext, train: Any) -> Any:
        if ctx.party != "site-c":
            return real(ctx, train)

        def late(params: Any, version: int) -> Any:
            time.sleep(1.0)
            return train(params, version)

        return real(ctx, late)

    monkeypatch.setattr(buffered, "participate", slow)
    spec = horizontal_dict(
        paths,
        train={"secure_aggregation": False, "rounds": 8, "asynchronous": True, "buffer_size": 2},
    )
    keys = {n: secrets.token_bytes(32) for n in [*paths, "coordinator"]}
    result, _ = _run(tmp_path, spec, keys)
    assert len(result.history) == 8
    assert max(h["mean_staleness"] for h in result.history) > 0
    assert result.metrics["validation"]["auc"] > 0.6


def test_asynchronous_aggregation_is_refused_with_secure_aggregation(tmp_path: Path) -> None:
    paths = synthetic_horizontal(tmp_path / "data")
    spec = horizontal_dict(paths, train={"asynchronous": True})
    with pytest.raises(ConfigError, match="secure aggregation needs a cohort that masks"):
        load_job(write_toml(tmp_path / "job.toml", spec))
