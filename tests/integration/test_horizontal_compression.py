"""Compressed updates in whole horizontal jobs: int8 and top-k cut the bytes the aggregator
receives per round (from the result's history) and still train; int8 does so under secure
aggregation too (masked 16-bit words instead of 64-bit ones); the spec refuses top-k with
secure aggregation, and int8 without its public grid or with client-level DP, saying why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.algorithms.horizontal import round_plan
from vfl.algorithms.horizontal.public_grid import PublicGrid
from vfl.api import simulate
from vfl.config.job_spec import HorizontalJobSpec, horizontal
from vfl.config.loading import load_job
from vfl.errors import ConfigError


def _run(tmp: Path, paths: dict[str, Path], **train: Any) -> Any:
    tmp.mkdir(parents=True, exist_ok=True)
    settings = {"secure_aggregation": False, "rounds": 4, **train}
    spec = horizontal_dict(paths, model={"hidden": [64]}, train=settings)
    result = simulate(write_toml(tmp / "job.toml", spec), workdir=tmp / "run")
    assert result.status == "succeeded", result.error
    return result


def test_int8_and_top_k_cut_the_bytes_per_round_and_still_train(tmp_path: Path) -> None:
    paths = synthetic_horizontal(tmp_path / "data", width=20)
    runs = {
        "none": _run(tmp_path / "none", paths),
        "int8": _run(tmp_path / "int8", paths, compression="int8"),
        "topk": _run(tmp_path / "topk", paths, compression="topk", topk_fraction=0.05),
    }
    per_round = {k: r.history[-1]["bytes_received"] for k, r in runs.items()}
    # 1,409 parameters: float64 8 bytes each, int8 1 byte, top-k 5% of them at 8 bytes
    assert per_round["int8"] < per_round["none"] / 5
    assert per_round["topk"] < per_round["none"] / 10
    plain_auc = runs["none"].metrics["validation"]["auc"]
    assert runs["int8"].metrics["validation"]["auc"] > plain_auc - 0.03
    assert runs["topk"].metrics["validation"]["auc"] > 0.6  # slower, carried over, learns


def test_secure_int8_sends_fewer_bytes_a_round_than_secure_float(tmp_path: Path) -> None:
    paths = synthetic_horizontal(tmp_path / "data", width=20)
    secure = {"secure_aggregation": True}
    floats = _run(tmp_path / "float", paths, **secure)
    int8 = _run(tmp_path / "int8", paths, **secure, compression="int8", int8_bound=16.0)
    float_bytes = [h["bytes_received"] for h in floats.history]
    int8_bytes = [h["bytes_received"] for h in int8.history]
    print(f"bytes a round, secure float {float_bytes[-1]:.0f}, secure int8 {int8_bytes[-1]:.0f}")
    # 1,409 parameters × 3 parties: 8 bytes a masked word, 2 at Z/2^16 (33.8 KB less a
    # round); the keys, shares and unmask answers are the same in both
    assert all(i < f - 3 * 1409 * 5 for i, f in zip(int8_bytes, float_bytes, strict=True))
    plain_auc = floats.metrics["validation"]["auc"]
    assert int8.metrics["validation"]["auc"] > plain_auc - 0.03


def _load(
    tmp: Path, train: dict[str, Any], privacy: dict[str, Any] | None = None
) -> HorizontalJobSpec:
    paths = synthetic_horizontal(tmp / "data")
    spec = horizontal_dict(paths, train=train, **({"privacy": privacy} if privacy else {}))
    return horizontal(load_job(write_toml(tmp / "job.toml", spec)))


def test_int8_with_secure_aggregation_validates(tmp_path: Path) -> None:
    spec = _load(tmp_path, {"compression": "int8", "int8_bound": 10.0})
    assert spec.train.secure_aggregation and spec.train.secure_int8
    assert round_plan.grid(spec) == PublicGrid(10.0)


def test_top_k_is_refused_with_secure_aggregation(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'topk' shows the aggregator which coordinates") as e:
        _load(tmp_path, {"compression": "topk"})
    assert "\n" not in str(e.value)


def test_secure_int8_needs_the_public_grid_and_refuses_client_dp(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"needs train\.int8_bound, the public range"):
        _load(tmp_path / "bound", {"compression": "int8"})
    with pytest.raises(ConfigError, match="client-level DP with secure int8"):
        _load(
            tmp_path / "dp",
            {"compression": "int8", "int8_bound": 10.0},
            {"client_dp_epsilon": 5.0},
        )
