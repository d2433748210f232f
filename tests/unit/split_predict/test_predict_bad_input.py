"""Bad input to a prediction job: one line naming what and where, and nothing half-written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_predict.harness import predict_dict
from vfl.algorithms.split import predict_label_holder
from vfl.api import predict, simulate
from vfl.config.predict_spec import OutputFormat
from vfl.errors import ConfigError
from vfl.runtime.score_sink import FileSink, SqlSink


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    home = tmp_path_factory.mktemp("home")
    (home / "train").mkdir()
    train = job_dict(synthetic_vertical(home / "train", {"bank": 3, "shop": 2}, rows=160))
    result = simulate(job_spec(train), home=home, workdir=home / "run")
    assert result.status == "succeeded", result.error
    return home, train, result.job_id


def _new(folder: Path, **options: Any) -> dict[str, Path]:
    folder.mkdir()
    return synthetic_vertical(folder, {"bank": 3, "shop": 2}, rows=120, seed=5, **options)


def _one_line(message: str, *parts: str) -> None:
    assert "\n" not in message, message
    for part in parts:
        assert part in message, message


def test_unknown_model_is_refused_before_anything_runs(
    trained: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    home, train, _ = trained
    spec = job_spec(predict_dict(train, _new(tmp_path / "n"), model="never-trained"))
    with pytest.raises(ConfigError) as raised:
        predict(spec, home=home, workdir=tmp_path / "run")
    _one_line(str(raised.value), "predict.model 'never-trained'", "holds no model part")
    assert not (tmp_path / "run").exists()  # nothing ran, not even align


def test_a_part_trained_under_another_spec_is_refused(
    trained: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    home, train, model = trained
    other = {**train, "model": {**train["model"], "cut_width": 7}}
    spec = job_spec(predict_dict(other, _new(tmp_path / "n"), model=model))
    with pytest.raises(ConfigError) as raised:
        predict(spec, home=home, workdir=tmp_path / "run")
    _one_line(str(raised.value), "trained under another spec", "model digest", "copy [model]")


def test_wrong_columns_fail_the_job_naming_the_file_and_the_column(
    trained: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    home, train, model = trained
    new = _new(tmp_path / "n")
    pd.read_csv(new["shop"]).rename(columns={"shop_f1": "shop_fx"}).to_csv(new["shop"], index=False)
    out = tmp_path / "scores.csv"
    spec = job_spec(predict_dict(train, new, model=model, output=str(out)))
    result = predict(spec, home=home, workdir=tmp_path / "run")
    assert result.status == "failed"
    _one_line(str(result.error), "party shop", "shop.csv", "missing shop_f1", "`features`")
    assert list(tmp_path.glob("*scores*")) == []


def test_no_overlap_fails_the_job_in_one_line(
    trained: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    home, train, model = trained
    new = _new(tmp_path / "n")
    frame = pd.read_csv(new["shop"])
    frame["id"] = "other-" + frame["id"]
    frame.to_csv(new["shop"], index=False)
    out = tmp_path / "scores.csv"
    result = predict(
        job_spec(predict_dict(train, new, model=model, output=str(out))),
        home=home,
        workdir=tmp_path / "run",
    )
    assert result.status == "failed"
    _one_line(str(result.error), "share no IDs")
    assert list(tmp_path.glob("*scores*")) == []


def test_rows_missing_at_a_feature_holder_fail_unless_imputed(
    trained: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    home, train, model = trained
    new = _new(tmp_path / "n")
    shop = pd.read_csv(new["shop"])
    shop.iloc[10:].to_csv(new["shop"], index=False)  # the shop lacks 10 of the bank's rows
    out = tmp_path / "scores.csv"
    failed = predict(
        job_spec(predict_dict(train, new, model=model, output=str(out))),
        home=home,
        workdir=tmp_path / "r1",
    )
    assert failed.status == "failed"
    _one_line(str(failed.error), "10 of its 120 rows are missing", "missing_party_rows")
    assert not out.exists()
    imputed = predict(
        job_spec(
            predict_dict(train, new, model=model, output=str(out), missing_party_rows="impute")
        ),
        home=home,
        workdir=tmp_path / "r2",
    )
    assert imputed.status == "succeeded", imputed.error
    assert len(pd.read_csv(out)) == 120


def test_an_existing_output_is_refused_unless_overwrite(
    trained: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    home, train, model = trained
    new = _new(tmp_path / "n")
    out = tmp_path / "scores.csv"
    out.write_text("keep me\n")
    spec = job_spec(predict_dict(train, new, model=model, output=str(out)))
    with pytest.raises(ConfigError) as raised:
        predict(spec, home=home, workdir=tmp_path / "r1")
    _one_line(str(raised.value), str(out), "already exists", "overwrite = true")
    assert out.read_text() == "keep me\n"
    again = job_spec(predict_dict(train, new, model=model, output=str(out), overwrite=True))
    assert predict(again, home=home, workdir=tmp_path / "r2").status == "succeeded"
    assert len(pd.read_csv(out)) == 120


def test_a_job_failing_mid_way_leaves_no_output_nor_temporary_file(
    trained: tuple[Path, dict[str, Any], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, train, model = trained
    new = _new(tmp_path / "n")
    out = tmp_path / "out" / "scores.parquet"
    out.parent.mkdir()
    calls: list[int] = []
    deliver = predict_label_holder._Delivery.deliver

    def failing(self: Any, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 3:  # two chunks already written
            raise OSError("disk full")
        deliver(self, *args)

    monkeypatch.setattr(predict_label_holder._Delivery, "deliver", failing)
    spec = job_spec(predict_dict(train, new, model=model, output=str(out), chunk_rows=30))
    result = predict(spec, home=home, workdir=tmp_path / "run")
    assert result.status == "failed" and "disk full" in str(result.error)
    assert len(calls) == 3
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("fmt", [OutputFormat.CSV, OutputFormat.PARQUET])
def test_file_sink_publishes_only_on_commit(tmp_path: Path, fmt: OutputFormat) -> None:
    path = tmp_path / f"s.{fmt}"
    sink = FileSink(path, fmt, overwrite=False)
    sink.write(pd.DataFrame({"id": ["a"], "score": [0.5]}))
    assert not path.exists()
    sink.abort()
    assert list(tmp_path.iterdir()) == []
    sink = FileSink(path, fmt, overwrite=False)
    for k in range(3):
        sink.write(pd.DataFrame({"id": [f"r{k}"], "score": [k / 3]}))
    sink.commit()
    read = pd.read_csv(path) if fmt == OutputFormat.CSV else pd.read_parquet(path)
    assert list(read["id"]) == ["r0", "r1", "r2"]


def test_sql_sink_replaces_the_table_in_one_transaction(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    first = SqlSink(url, "scores", overwrite=False)
    first.write(pd.DataFrame({"id": ["a", "b"], "score": [0.1, 0.2]}))
    first.commit()
    refused = SqlSink(url, "scores", overwrite=False)
    with pytest.raises(ConfigError, match=r"table 'scores' .* already exists"):
        refused.check()
    aborted = SqlSink(url, "scores", overwrite=True)
    aborted.write(pd.DataFrame({"id": ["c"], "score": [0.3]}))
    aborted.abort()
    assert list(pd.read_sql_table("scores", url)["id"]) == ["a", "b"]
    replacing = SqlSink(url, "scores", overwrite=True)
    replacing.write(pd.DataFrame({"id": ["c"], "score": [0.3]}))
    replacing.commit()
    assert list(pd.read_sql_table("scores", url)["id"]) == ["c"]
    assert sa.inspect(sa.create_engine(url)).get_table_names() == ["scores"]
