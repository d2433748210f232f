"""Prediction over real processes: train the breast sample on a coordinator and two party
nodes, restart a node, then `vfl job submit` a prediction job on other datasets. The model
survives the restart in each node's registry; the scores equal the registered parts'
forward pass and exist only at the label holder; a job naming a model no party holds is
declined at approval, in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.deployment import SAMPLES, vfl
from tests.unit.split_predict.harness import oracle_scores
from vfl.cli.local_federation import LocalFederation
from vfl.config.job_spec import vertical
from vfl.config.loading import load_job
from vfl.registry.sqlite_registry import SqliteModelRegistry

pytestmark = pytest.mark.slow

SAMPLE = SAMPLES / "breast" / "job.toml"
NEW = "new"
"""The dataset name each party registers its new rows under."""


def _new_rows(folder: Path) -> dict[str, Path]:
    """Every other row of each party's sample table, as that party's new dataset."""
    folder.mkdir()
    paths = {}
    for party in ("hospital", "lab"):
        frame = pd.read_csv(SAMPLE.parent / f"{party}.csv", dtype={"patient_id": str})
        paths[party] = folder / f"{party}.csv"
        frame.iloc[::2].drop(columns=["diagnosis"], errors="ignore").to_csv(
            paths[party], index=False
        )
    return paths


def _predict_toml(fed: LocalFederation, model: str, name: str) -> Path:
    text = fed.job_spec(epochs=3).read_text().replace('data = "data"', f'data = "{NEW}"')
    text = text.replace('label_column = "diagnosis"\n', "")
    text += (
        f'\n[predict]\nmodel = "{model}"\noutput = "scores.csv"\nmissing_party_rows = "impute"\n'
    )
    path = fed.root / name
    path.write_text(text)
    return path


def _submit(fed: LocalFederation, spec: Path, out: Path) -> dict[str, object]:
    proc = vfl("job", "submit", str(spec), "--wait", "--json", str(out), *fed.cli_args())
    result: dict[str, object] = json.loads(out.read_text())
    assert proc.returncode in (0, 1), proc.stderr
    return result


def test_prediction_over_processes_after_a_party_restart(tmp_path: Path) -> None:
    new = _new_rows(tmp_path / "new")
    extra = {p: f'[[datasets]]\nname = "{NEW}"\nsource = "{path}"' for p, path in new.items()}
    fed = LocalFederation(tmp_path / "fed", SAMPLE, party_toml=extra)
    try:
        fed.start()
        fed.wait_connected()
        trained = _submit(fed, fed.job_spec(epochs=3), tmp_path / "train.json")
        assert trained["status"] == "succeeded", trained.get("error")
        model = str(trained["job_id"])
        for party in fed.parties:  # a clean restart of every node: the models stay
            fed.stop_party(party)
            fed.start_party(party)
        fed.wait_connected()
        listed = vfl("model", "list", "--workdir", str(fed.root / "lab" / "state"))
        assert listed.returncode == 0 and model in listed.stdout, listed.stderr
        predicted = _submit(fed, _predict_toml(fed, model, "p.toml"), tmp_path / "p.json")
        unknown = _submit(fed, _predict_toml(fed, "never-trained", "u.toml"), tmp_path / "u.json")
    finally:
        fed.stop()
    assert predicted["status"] == "succeeded", predicted.get("error")
    scores_path = fed.root / "hospital" / "state" / "outputs" / "scores.csv"
    assert predicted["outputs"] == {"hospital": {"scores": str(scores_path)}}
    scores = pd.read_csv(scores_path, dtype={"patient_id": str}).set_index("patient_id")
    hospital = pd.read_csv(new["hospital"], dtype={"patient_id": str})
    assert sorted(scores.index) == sorted(hospital["patient_id"])  # imputed rows included

    spec = vertical(load_job(SAMPLE))
    frames = {p: pd.read_csv(path, dtype={"patient_id": str}) for p, path in new.items()}
    registries = {p: SqliteModelRegistry(fed.root / p / "state" / "models") for p in fed.parties}
    oracle = oracle_scores(spec, registries.__getitem__, model, frames, "patient_id")
    shared = scores.loc[oracle.index, "score"]
    assert (shared - oracle).abs().max() < 1e-6

    # the scores exist at the label holder only: not at the lab, not at the coordinator
    elsewhere = [
        p for p in fed.root.rglob("scores*") if not p.is_relative_to(fed.root / "hospital")
    ]
    assert elsewhere == []

    assert unknown["status"] == "failed"
    error = str(unknown["error"])
    assert "\n" not in error
    assert "predict.model 'never-trained'" in error and "holds no model part" in error
