"""A job spec is bounded before it costs anything (the hardening probes): size, then
nesting depth, then every size and count field, finite floats only; and a party's spec is
checked for its membership before it is validated. Each refusal is one line."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from coordinator.database import Database
from coordinator.errors import AccessDeniedError
from coordinator.lifecycle import JobLifecycle
from coordinator.mailbox import Mailbox, MailboxLimits
from coordinator.sql_store import SqlStore
from tests.factories import write_toml
from tests.unit.test_job_spec_errors import _base, _error
from vfl.config.loading import MAX_TOML_BYTES, MAX_TOML_DEPTH, load_job, parse_toml
from vfl.errors import ConfigError


def _with(section: str, **values: Any) -> dict[str, Any]:
    spec = _base()
    spec[section] = {**spec.get(section, {}), **values}
    return spec


@pytest.mark.parametrize(
    ("section", "values", "expected"),
    [
        (
            "model",
            {"bottom_hidden": [50_000_000]},
            "model.bottom_hidden[0]: Input should be less than or equal to 4096",
        ),
        ("model", {"top_hidden": [8] * 17}, "model.top_hidden: List should have at most 16"),
        ("train", {"epochs": 100_000}, "train.epochs: Input should be less than or equal to"),
        ("train", {"timeout_s": float("inf")}, "train.timeout_s: Input should be a finite"),
        ("train", {"learning_rate": float("nan")}, "train.learning_rate: Input should be a fin"),
        ("privacy", {"clip": float("inf")}, "privacy.clip: Input should be a finite number"),
    ],
)
def test_a_size_count_or_float_out_of_bounds_is_one_line(
    tmp_path: Path, section: str, values: dict[str, Any], expected: str
) -> None:
    assert expected in _error(tmp_path, _with(section, **values))


def test_a_deeply_nested_spec_is_refused_without_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "job.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError) as caught:
        load_job(path)
    assert f"nested deeper than {MAX_TOML_DEPTH} levels" in str(caught.value)
    levels = MAX_TOML_DEPTH - 1  # the document's own table is the first level
    assert parse_toml("x = " + "[" * levels + "]" * levels, "ok")  # at the limit: accepted


def test_an_oversized_spec_is_refused_before_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "job.toml"
    path.write_text("# " + "x" * (MAX_TOML_BYTES * 10) + "\n")

    def parse(text: str) -> dict[str, Any]:
        raise AssertionError("an oversized spec reached the TOML parser")

    monkeypatch.setattr(tomllib, "loads", parse)  # the module loading.py parses with
    with pytest.raises(ConfigError) as caught:
        load_job(path)
    assert "more than the 65536 a spec may have" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_party_may_make_the_coordinator_validate_only_its_own_jobs(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    db.migrate()
    lifecycle = JobLifecycle(SqlStore(db), Mailbox(db, MailboxLimits(10, 1000)), lambda job: None)
    foreign = write_toml(tmp_path / "job.toml", _with("train", epochs=10**9)).read_text()
    with pytest.raises(AccessDeniedError, match="may submit only jobs it takes part in"):
        lifecycle.submit(foreign, "mall", is_operator=False)  # refused before validation
    with pytest.raises(ConfigError, match=r"train\.epochs"):
        lifecycle.submit(foreign, "bank", is_operator=False)  # a member gets the real error
