"""`vfl predict`: the spec's [predict] with --model / --output overrides; a spec without
[predict] is a one-line usage error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical, write_toml
from tests.unit.split_predict.harness import predict_dict
from vfl.api import simulate
from vfl.cli.main import main


def test_vfl_predict_overrides_model_and_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "train").mkdir()
    train = job_dict(synthetic_vertical(tmp_path / "train", {"bank": 3, "shop": 2}))
    trained = simulate(job_spec(train), home=tmp_path, workdir=tmp_path / "run")
    assert trained.status == "succeeded", trained.error
    (tmp_path / "new").mkdir()
    new = synthetic_vertical(tmp_path / "new", {"bank": 3, "shop": 2}, rows=90, seed=4)
    spec = write_toml(tmp_path / "predict.toml", predict_dict(train, new, model="placeholder"))
    monkeypatch.chdir(tmp_path)
    args = ["predict", str(spec), "--home", str(tmp_path), "--model", trained.job_id]
    assert main([*args, "--output", "scores.csv"]) == 0
    assert len(pd.read_csv(tmp_path / "scores.csv")) == 90
    assert "predict" in capsys.readouterr().out
    assert main([*args, "--output", "scores.csv"]) == 2  # exists: refused
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--output", "scores.csv", "--overwrite"]) == 0


def test_vfl_predict_without_a_predict_table_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 2})
    spec = write_toml(tmp_path / "job.toml", job_dict(paths))
    assert main(["predict", str(spec), "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no [predict] table" in err
