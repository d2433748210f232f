"""A finished training job leaves each party's part in that party's registry, and
`vfl model list | show | delete` reads it from the simulator's folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.api import simulate
from vfl.cli.main import main
from vfl.registry.part import model_digest
from vfl.registry.sqlite_registry import SqliteModelRegistry


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("train")
    paths = synthetic_vertical(folder, {"bank": 3, "shop": 2})
    spec = job_spec(job_dict(paths))
    result = simulate(spec, workdir=folder / "run", home=folder)
    assert result.status == "succeeded", result.error
    return folder, result.job_id


def test_each_party_registers_its_part_with_what_identifies_it(trained: tuple[Path, str]) -> None:
    home, job_id = trained
    bank = SqliteModelRegistry(home / "models" / "bank").require(job_id, "test")
    shop = SqliteModelRegistry(home / "models" / "shop").require(job_id, "test")
    assert (bank.role, shop.role) == ("label_holder", "feature_holder")
    assert bank.peers == (("shop", "feature_holder"),)
    assert shop.peers == (("bank", "label_holder"),)
    assert bank.model_digest == shop.model_digest
    assert bank.spec_digest == shop.spec_digest and len(bank.spec_digest) == 64
    # the label holder keeps the metrics it computed; the feature holder never sees any
    assert bank.metrics["validation"]["auc"] > 0
    assert shop.metrics == {}


def test_model_digest_ignores_data_and_epochs_but_not_the_model(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 2})
    base = job_dict(paths)
    other_data = job_dict({"bank": tmp_path / "x.csv", "shop": tmp_path / "y.csv"})
    more_epochs = job_dict(paths, train={"epochs": 9})
    wider = job_dict(paths, model={"cut_width": 5})
    digest = model_digest(job_spec(base))
    assert model_digest(job_spec(other_data)) == digest
    assert model_digest(job_spec(more_epochs)) == digest
    assert model_digest(job_spec(wider)) != digest


def test_vfl_model_lists_shows_and_deletes(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    home, job_id = trained
    assert main(["model", "list", "--workdir", str(home)]) == 0
    listed = capsys.readouterr().out
    assert listed.count(job_id) == 2 and "label_holder" in listed and "auc" in listed
    assert main(["model", "show", job_id, "--workdir", str(home), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {p["party"] for p in shown} == {"bank", "shop"}
    assert main(["model", "delete", job_id, "--workdir", str(home), "--party", "shop"]) == 0
    capsys.readouterr()
    assert SqliteModelRegistry(home / "models" / "shop").get(job_id) is None
    assert SqliteModelRegistry(home / "models" / "bank").get(job_id) is not None


def test_vfl_model_show_of_unknown_job_is_one_line(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    home, _ = trained
    assert main(["model", "show", "never-trained", "--workdir", str(home)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "no part of job 'never-trained'" in err and "vfl model list" in err


def test_vfl_model_list_without_a_registry_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "list", "--workdir", str(tmp_path)]) == 2
    assert "no model registry here" in capsys.readouterr().err
