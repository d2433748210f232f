"""party.toml's dataset sources resolve against its folder, a relative SQLite URL too, and
a missing SQLite file is named by its path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from parties.registered_data import describe
from vfl.config.party_config import load_party_config, resolve_source
from vfl.errors import DataValidationError


def _party_toml(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "party.toml"
    path.write_text(
        'name = "lab"\ncoordinator = "127.0.0.1:50051"\ninsecure = true\n'
        f'[[datasets]]\nname = "results"\nsource = "{source}"\ntable = "results"\n'
    )
    return path


def test_a_relative_sqlite_url_resolves_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "silo"
    path = _party_toml(config_dir, "sqlite:///data/lab.db")
    (config_dir / "data").mkdir()
    with sqlite3.connect(config_dir / "data" / "lab.db") as db:
        db.execute("CREATE TABLE results (patient_id TEXT, ldl REAL)")
        db.execute("INSERT INTO results VALUES ('p1', 1.5)")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    [dataset] = describe(load_party_config(path))
    assert (dataset.name, list(dataset.columns), dataset.rows) == (
        "results",
        ["patient_id", "ldl"],
        1,
    )


def test_a_missing_sqlite_file_is_named_by_its_path(tmp_path: Path) -> None:
    path = _party_toml(tmp_path / "silo", "sqlite:///lab.db")
    with pytest.raises(DataValidationError) as info:
        describe(load_party_config(path))
    assert f"SQLite file not found at {tmp_path / 'silo' / 'lab.db'}" in str(info.value)


@pytest.mark.parametrize(
    ("source", "resolved"),
    [
        ("data.csv", "/base/data.csv"),
        ("/abs/data.csv", "/abs/data.csv"),
        ("sqlite:///x.db", "sqlite:////base/x.db"),
        ("sqlite+pysqlite:///x.db?mode=ro", "sqlite+pysqlite:////base/x.db?mode=ro"),
        ("sqlite:////abs/x.db", "sqlite:////abs/x.db"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://host/db", "postgresql://host/db"),
    ],
)
def test_resolve_source_only_touches_relative_files(source: str, resolved: str) -> None:
    assert resolve_source(source, Path("/base")) == resolved
