"""The shipped samples train to useful quality in the simulator, and the files match
what `samples/make_samples.py` generates (so the script stays the source of truth)."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import pytest

from vfl.api import simulate

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.mark.parametrize(
    ("sample", "metric", "floor"),
    [
        ("breast", "auc", 0.97),
        ("breast_paillier", "auc", 0.97),
        ("breast_three_party", "auc", 0.97),
        ("wine_multiclass", "accuracy", 0.85),
        ("diabetes_regression", "r2", 0.35),
    ],
)
def test_sample_trains_to_quality(tmp_path: Path, sample: str, metric: str, floor: float) -> None:
    result = simulate(SAMPLES / sample / "job.toml", workdir=tmp_path)
    assert result.status == "succeeded", result.error
    assert result.metrics["validation"][metric] >= floor
    rows = result.align["party_rows"]
    assert result.align["intersection_size"] < min(rows.values())  # partial overlap
    for party in rows:
        assert (tmp_path / party / "model" / "weights.pt").exists()


def test_sample_files_are_reproducible(tmp_path: Path) -> None:
    copy = tmp_path / "samples"
    shutil.copytree(SAMPLES, copy)
    runpy.run_path(str(copy / "make_samples.py"), run_name="__main__")
    for path in sorted(SAMPLES.rglob("*.csv")) + sorted(SAMPLES.rglob("*.toml")):
        regenerated = copy / path.relative_to(SAMPLES)
        assert regenerated.read_bytes() == path.read_bytes(), f"{path} differs; rerun the script"
