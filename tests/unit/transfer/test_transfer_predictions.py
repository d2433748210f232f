"""The target's predictions file: every row outside the intersection, in the format the
spec asks, private to the target's account."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pandas as pd

from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from vfl.api import simulate


def test_multiclass_predictions_in_parquet_cover_the_targets_other_rows(tmp_path: Path) -> None:
    paths = synthetic_transfer(tmp_path, rows=240, task="multiclass")
    spec = transfer_spec(
        transfer_dict(paths, model={"task": "multiclass"}, predict={"format": "parquet"})
    )
    result = simulate(spec, workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    path = Path(result.outputs["target"]["predictions"])
    assert path.name == "predictions.parquet"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    scored = pd.read_parquet(path)
    assert list(scored.columns) == ["id", "score_0", "score_1", "score_2", "class"]
    source = pd.read_csv(paths["source"], dtype={"id": str})
    target = pd.read_csv(paths["target"], dtype={"id": str})
    others = [i for i in target["id"] if i not in set(source["id"])]
    assert list(scored["id"]) == others  # the target's file order
    probabilities = scored[["score_0", "score_1", "score_2"]].to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-9)
    assert (scored["class"].to_numpy() == probabilities.argmax(axis=1)).all()
