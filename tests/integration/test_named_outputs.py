"""A party node writes a prediction job's scores outside `state_dir/outputs` only to an
output its own party.toml declares (`[outputs.NAME]`, a file or a SQL table) and the job
names (`[predict] output = "NAME"`); anything else a peer's spec asks for is refused in
one line. The SQL case runs on SQLite, and on PostgreSQL when VFL_TEST_POSTGRES_URL is
set; the scores are the registered parts' forward pass, staging tables are gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_predict.harness import (
    oracle_scores,
    predict_dict,
    predict_small_keys,
    registry,
)
from vfl.api import simulate
from vfl.config.party_config import OutputConfig, load_party_config
from vfl.errors import ConfigError
from vfl.registry.approval import prediction_refusal
from vfl.runtime.score_sink import OutputPlace, open_sink

NODE = "bank"
"""The label holder, acting as a party node: scores are delivered here."""


def _trained(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Path], str]:
    """A plain job trained in the simulator (parts under tmp_path/models), and new rows."""
    (tmp_path / "train").mkdir()
    (tmp_path / "new").mkdir()
    train = job_dict(synthetic_vertical(tmp_path / "train", {NODE: 3, "shop": 2}, rows=120))
    result = simulate(job_spec(train), home=tmp_path, workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    new = synthetic_vertical(tmp_path / "new", {NODE: 3, "shop": 2}, rows=90, seed=1)
    return train, new, result.job_id


def _node(tmp_path: Path, **outputs: OutputConfig) -> OutputPlace:
    return OutputPlace(tmp_path / "outputs", confined=True, named=outputs, party=NODE)


def _oracle(spec: Any, tmp_path: Path, model: str, new: dict[str, Path]) -> pd.Series:
    frames = {p: pd.read_csv(path, dtype={"id": str}) for p, path in new.items()}
    return oracle_scores(spec, tmp_path, model, frames)


def test_a_declared_sql_output_receives_the_scores(tmp_path: Path, database_url: str) -> None:
    train, new, model = _trained(tmp_path)
    spec = job_spec(predict_dict(train, new, model=model, output="warehouse", chunk_rows=40))
    place = _node(tmp_path, warehouse=OutputConfig(url=database_url, table="bank_scores"))
    result = predict_small_keys(spec, tmp_path, outputs=place)
    assert result.status == "succeeded", result.error
    (where,) = result.outputs[NODE].values()
    assert where.endswith("#bank_scores")
    engine = sa.create_engine(database_url)
    try:
        assert sa.inspect(engine).get_table_names() == ["bank_scores"]  # no staging table
        scores = pd.read_sql_table("bank_scores", engine).astype({"id": str}).set_index("id")
    finally:
        engine.dispose()
    oracle = _oracle(spec, tmp_path, model, new)
    assert sorted(scores.index) == sorted(oracle.index)
    assert (scores["score"] - oracle.reindex(scores.index)).abs().max() < 1e-6

    # the table exists now: the same job again is declined before any data leaves ...
    refusal = prediction_refusal(spec, "again", NODE, registry(tmp_path, NODE), place)
    assert refusal is not None and "\n" not in refusal
    assert "table 'bank_scores'" in refusal and "already exists" in refusal
    # ... and asking to overwrite it needs the party's consent, not only the peer's
    again = job_spec(predict_dict(train, new, model=model, output="warehouse", overwrite=True))
    refusal = prediction_refusal(again, "again", NODE, registry(tmp_path, NODE), place)
    assert refusal is not None and "\n" not in refusal
    assert "may not be replaced by a job" in refusal and "[outputs.warehouse]" in refusal
    allowing = _node(
        tmp_path, warehouse=OutputConfig(url=database_url, table="bank_scores", overwrite=True)
    )
    assert prediction_refusal(again, "again", NODE, registry(tmp_path, NODE), allowing) is None


def test_a_declared_file_output_receives_the_scores(tmp_path: Path) -> None:
    train, new, model = _trained(tmp_path)
    target = tmp_path / "exports" / "scores.parquet"
    target.parent.mkdir()
    spec = job_spec(predict_dict(train, new, model=model, output="daily"))
    place = _node(tmp_path, daily=OutputConfig(path=str(target)))
    result = predict_small_keys(spec, tmp_path, outputs=place)
    assert result.outputs == {NODE: {"scores": str(target)}}
    scores = pd.read_parquet(target).astype({"id": str}).set_index("id")
    oracle = _oracle(spec, tmp_path, model, new)
    assert (scores["score"] - oracle.reindex(scores.index)).abs().max() < 1e-6
    assert sorted(p.name for p in target.parent.iterdir()) == ["scores.parquet"]


@pytest.mark.parametrize(
    ("output", "named", "overwrite", "fragment"),
    [
        ("nowhere", True, False, "'nowhere' is not an output party bank declares"),
        ("nowhere", True, False, "(declared: warehouse)"),
        ("warehouse", False, False, "the simulator writes to a .csv/.parquet path"),
        ("warehouse", True, True, "may not be replaced by a job"),
        ("/etc/scores.csv", True, False, "leaves this party's state_dir/outputs"),
        ("../scores.csv", True, False, "leaves this party's state_dir/outputs"),
    ],
)
def test_what_a_node_did_not_declare_is_refused_in_one_line(
    tmp_path: Path, output: str, named: bool, overwrite: bool, fragment: str
) -> None:
    spec = job_spec(
        predict_dict(
            job_dict({NODE: tmp_path / "b.csv", "shop": tmp_path / "s.csv"}),
            {NODE: tmp_path / "b.csv", "shop": tmp_path / "s.csv"},
            model="m",
            output=output,
            overwrite=overwrite,
        )
    )
    declared = {"warehouse": OutputConfig(url=f"sqlite:///{tmp_path / 'w.db'}", table="t")}
    place = (
        OutputPlace(tmp_path, confined=True, named=declared, party=NODE)
        if named
        else OutputPlace(tmp_path)
    )
    assert spec.predict is not None
    with pytest.raises(ConfigError) as err:
        open_sink(spec.predict, place).check()
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_a_declared_url_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    paths = {NODE: tmp_path / "b.csv", "shop": tmp_path / "s.csv"}
    spec = job_spec(predict_dict(job_dict(paths), paths, model="m", output="warehouse"))
    assert spec.predict is not None
    secret = "nodb+nodriver://vfl:s3cret@db/warehouse"
    place = _node(tmp_path, warehouse=OutputConfig(url=secret, table="t"))
    with pytest.raises(ConfigError) as err:
        open_sink(spec.predict, place)
    assert "is not one SQLAlchemy can open" in str(err.value) and "s3cret" not in str(err.value)


def test_a_sql_url_in_a_peers_spec_is_still_refused_at_a_node(tmp_path: Path) -> None:
    paths = {NODE: tmp_path / "b.csv", "shop": tmp_path / "s.csv"}
    url = f"sqlite:///{tmp_path / 'w.db'}"
    spec = job_spec(predict_dict(job_dict(paths), paths, model="m", output=url, table="t"))
    assert spec.predict is not None
    with pytest.raises(ConfigError, match=r"output = \"NAME\" of an \[outputs.NAME\]"):
        open_sink(spec.predict, _node(tmp_path))
    assert not (tmp_path / "w.db").exists()


def _party_toml(tmp_path: Path, outputs: str) -> Path:
    path = tmp_path / "party.toml"
    path.write_text(f'name = "{NODE}"\ncoordinator = "127.0.0.1:1"\ninsecure = true\n{outputs}')
    return path


def test_party_toml_declares_outputs_relative_to_itself(tmp_path: Path) -> None:
    config = load_party_config(
        _party_toml(
            tmp_path,
            '[outputs.daily]\npath = "exports/s.csv"\n'
            '[outputs.warehouse]\nurl = "sqlite:////srv/w.db"\ntable = "scores"\n',
        )
    )
    assert config.outputs["daily"].path == str(tmp_path / "exports" / "s.csv")
    assert config.outputs["warehouse"].url == "sqlite:////srv/w.db"


@pytest.mark.parametrize(
    ("outputs", "fragment"),
    [
        ('[outputs.a]\npath = "s.csv"\nurl = "sqlite:///x.db"\ntable = "t"\n', "exactly one"),
        ("[outputs.a]\noverwrite = true\n", "exactly one"),
        ('[outputs.a]\nurl = "sqlite:///x.db"\n', "with `table` beside it"),
        ('[outputs.a]\npath = "s.txt"\n', "neither .csv nor .parquet"),
        ('[outputs.a]\npath = "s.csv"\ntable = "t"\n', "applies only with `url`"),
        ('[outputs."a.csv"]\npath = "s.csv"\n', "rename [outputs.NAME]"),
        ('[outputs.a]\npath = "s.csv"\nformat = "csv"\n', "unknown field"),
    ],
)
def test_a_bad_output_declaration_is_one_line(tmp_path: Path, outputs: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_party_config(_party_toml(tmp_path, outputs))
    assert fragment in str(err.value) and "\n" not in str(err.value)
    assert "party.toml" in str(err.value)
