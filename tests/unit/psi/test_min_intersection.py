"""`align.min_intersection`: a training job on a handful of shared rows fails after PSI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.api import simulate
from vfl.config.job_spec import DEFAULT_MIN_INTERSECTION


@pytest.mark.parametrize("protocol", ["join", "ecdh"])
def test_five_shared_rows_fail_the_job_in_one_line(tmp_path: Path, protocol: str) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=5)
    spec = job_spec(job_dict(paths, align={"protocol": protocol}, train={"epochs": 1}))
    result = simulate(spec, workdir=tmp_path / "run")
    assert result.status == "failed"
    assert result.error is not None and "\n" not in result.error
    assert "share 5 rows, fewer than align.min_intersection = 10" in result.error


def test_a_lower_minimum_set_in_the_spec_lets_the_job_train(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=5)
    spec = job_spec(job_dict(paths, align={"min_intersection": 5}, train={"epochs": 1}))
    assert simulate(spec, workdir=tmp_path / "run").status == "succeeded"


def test_the_default_minimum_leaves_the_spec_json_and_its_digest_unchanged(
    tmp_path: Path,
) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=20)
    default = job_spec(job_dict(paths))
    explicit = job_spec(job_dict(paths, align={"min_intersection": DEFAULT_MIN_INTERSECTION}))
    assert "min_intersection" not in default.model_dump_json()
    assert explicit.model_dump_json() == default.model_dump_json()
    assert (
        '"min_intersection":50'
        in job_spec(job_dict(paths, align={"min_intersection": 50})).model_dump_json()
    )
