"""A prediction job's scores are the registered parts' forward pass on the same rows.

The oracle (harness.oracle_scores) reads every party's registered part and writes the
forward pass out by hand, in one process, on the joined rows. Plain: equal to 1e-6
(float32 sums in another order). Paillier: the feature holder's contribution a·W is
computed on fixed-point encodings (2^-precision_bits per value, precision_bits = 20 here),
so scores agree to 1e-4 (docs/predict.md, Precision).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_predict.harness import (
    oracle_scores,
    predict_dict,
    predict_small_keys,
    train_small_keys,
)
from vfl.api import predict, simulate


def _data(folder: Path, seed: int) -> dict[str, Path]:
    folder.mkdir()
    return synthetic_vertical(folder, {"bank": 3, "shop": 2}, rows=150, seed=seed)


def _frames(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    return {party: pd.read_csv(path, dtype={"id": str}) for party, path in paths.items()}


def _compare(scores: Path, oracle: pd.Series, tolerance: float) -> None:
    delivered = pd.read_csv(scores, dtype={"id": str}).set_index("id")
    assert sorted(delivered.index) == sorted(oracle.index)
    worst = (delivered["score"] - oracle.reindex(delivered.index)).abs().max()
    assert worst < tolerance, f"scores differ from the oracle by {worst:.2e}"
    assert ((delivered["score"] >= 0.5).astype(int) == delivered["class"]).all()


def test_plain_prediction_equals_the_parts_forward_pass(tmp_path: Path) -> None:
    train = job_dict(_data(tmp_path / "train", 0))
    result = simulate(job_spec(train), home=tmp_path, workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    new = _data(tmp_path / "new", 1)
    out = tmp_path / "scores.csv"
    spec = job_spec(predict_dict(train, new, model=result.job_id, output=str(out), chunk_rows=37))
    predicted = predict(spec, home=tmp_path, workdir=tmp_path / "predict")
    assert predicted.status == "succeeded", predicted.error
    _compare(out, oracle_scores(spec, tmp_path, result.job_id, _frames(new)), 1e-6)


def test_paillier_prediction_equals_the_parts_forward_pass_within_precision(
    tmp_path: Path,
) -> None:
    knobs = {"protection": "paillier", "optimizer": "sgd", "learning_rate": 0.1, "workers": 1}
    train = job_dict(_data(tmp_path / "train", 0), train={**knobs, "precision_bits": 20})
    model = train_small_keys(job_spec(train), tmp_path)
    new = _data(tmp_path / "new", 1)
    out = tmp_path / "scores.csv"
    spec = job_spec(predict_dict(train, new, model=model, output=str(out), chunk_rows=64))
    predict_small_keys(spec, tmp_path)
    _compare(out, oracle_scores(spec, tmp_path, model, _frames(new)), 1e-4)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_a_feature_holder_named_deliver_to_gets_the_scores_of_its_rows(
    tmp_path: Path, task: str
) -> None:
    train = job_dict(_data(tmp_path / "train", 0), model={"task": task})
    if task == "multiclass":
        synthetic_vertical(tmp_path / "train", {"bank": 3, "shop": 2}, rows=150, task=task)
    result = simulate(job_spec(train), home=tmp_path, workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    new = _data(tmp_path / "new", 1)
    if task == "multiclass":
        synthetic_vertical(tmp_path / "new", {"bank": 3, "shop": 2}, rows=150, seed=1, task=task)
    at_bank, at_shop = tmp_path / "bank.csv", tmp_path / "shop.csv"
    common = {"model": result.job_id, "chunk_rows": 50}
    by_bank = job_spec(predict_dict(train, new, **common, output=str(at_bank)))
    by_shop = job_spec(predict_dict(train, new, **common, output=str(at_shop), deliver_to="shop"))
    assert predict(by_bank, home=tmp_path, workdir=tmp_path / "p1").status == "succeeded"
    assert predict(by_shop, home=tmp_path, workdir=tmp_path / "p2").status == "succeeded"
    bank = pd.read_csv(at_bank, dtype={"id": str}).set_index("id").sort_index()
    shop = pd.read_csv(at_shop, dtype={"id": str}).set_index("id").sort_index()
    pd.testing.assert_frame_equal(bank, shop)
    per_class = ["score_0", "score_1", "score_2"]
    expected = ["score", "class"] if task == "binary" else [*per_class, "class"]
    assert list(shop.columns) == expected
