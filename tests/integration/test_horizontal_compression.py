"""Compressed updates in whole horizontal jobs: int8 and top-k cut the bytes the aggregator
receives per round (from the result's history) and still train; the spec refuses them
with secure aggregation, saying why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.api import simulate
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


@pytest.mark.parametrize("compression", ["int8", "topk"])
def test_compression_is_refused_with_secure_aggregation(tmp_path: Path, compression: str) -> None:
    paths = synthetic_horizontal(tmp_path / "data")
    spec = horizontal_dict(paths, train={"compression": compression})
    with pytest.raises(ConfigError, match=f"compression = '{compression}' applies to updates"):
        load_job(write_toml(tmp_path / "job.toml", spec))
