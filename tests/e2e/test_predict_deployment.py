"""Prediction over real processes: train the breast sample on a coordinator and two party
nodes, restart a node, then `vfl job submit` a prediction job on other datasets. The model
survives the restart in each node's registry; the scores equal the registered parts'
forward pass and exist only at the label holder; a job naming a model no party holds is
declined at approval, in one line.

Then the same over Paillier: a small Paillier job (2048-bit keys as deployed, 96 rows, one
epoch) is trained, then a prediction job scores new rows under Paillier, delivers the
scores to the feature holder and evaluates them on the label holder's labels."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tests.e2e.deployment import SAMPLES, vfl
from tests.unit.split_predict.harness import oracle_scores
from vfl.cli.local_federation import LocalFederation
from vfl.config.job_spec import vertical
from vfl.config.loading import load_job
from vfl.registry.sqlite_registry import SqliteModelRegistry
from vfl.remote import connect

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


def _predict_toml(fed: LocalFederation, model: str, name: str, output: str = "scores.csv") -> Path:
    text = fed.job_spec(epochs=3).read_text().replace('data = "data"', f'data = "{NEW}"')
    text = text.replace('label_column = "diagnosis"\n', "")
    text += f'\n[predict]\nmodel = "{model}"\noutput = "{output}"\nmissing_party_rows = "impute"\n'
    path = fed.root / name
    path.write_text(text)
    return path


def _submit(fed: LocalFederation, spec: Path, out: Path) -> dict[str, object]:
    proc = vfl("job", "submit", str(spec), "--wait", "--json", str(out), *fed.cli_args())
    result: dict[str, object] = json.loads(out.read_text())
    assert proc.returncode in (0, 1), proc.stderr
    return result


def _run(fed: LocalFederation, spec: Path) -> dict[str, Any]:
    """Submit and wait through an operator client in this process: the same RPCs as
    `vfl job submit --wait`, without starting another interpreter."""
    client = connect(fed.address, fed.root / "certs", "operator")
    try:
        return client.wait(client.submit(spec.read_text()))
    finally:
        client.close()


def test_prediction_over_processes_after_a_party_restart(tmp_path: Path) -> None:
    new = _new_rows(tmp_path / "new")
    extra = {p: f'[[datasets]]\nname = "{NEW}"\nsource = "{path}"' for p, path in new.items()}
    warehouse = tmp_path / "warehouse.db"  # the hospital's own database, declared by it
    extra["hospital"] += f'\n[outputs.warehouse]\nurl = "sqlite:///{warehouse}"\ntable = "scores"'
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
        named = _run(fed, _predict_toml(fed, model, "w.toml", "warehouse"))
        undeclared = _run(fed, _predict_toml(fed, model, "x.toml", "elsewhere"))
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

    # an output the hospital's party.toml declares: its SQLite table, the same scores
    assert named["status"] == "succeeded", named.get("error")
    assert named["outputs"] == {"hospital": {"scores": f"sqlite:///{warehouse}#scores"}}
    with sqlite3.connect(warehouse) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        table = pd.read_sql("SELECT * FROM scores", db).astype({"patient_id": str})
    assert tables == ["scores"]  # the staging table was renamed, not left beside it
    in_sql = table.set_index("patient_id").loc[scores.index, "score"]
    assert (in_sql - scores["score"]).abs().max() < 1e-12
    # ... and one it does not declare is declined at approval, in one line
    assert undeclared["status"] == "failed"
    error = str(undeclared["error"])
    assert "\n" not in error and "'elsewhere' is not an output party hospital declares" in error


PAILLIER_TOLERANCE = 1e-4
"""Delivered Paillier scores vs the parts' forward pass in floats: the feature holder's
a·W is computed on fixed-point encodings (train.precision_bits = 20 here), which holds
scores to 1e-4 (docs/predict.md, Precision)."""


def _paillier_sample(folder: Path) -> tuple[Path, dict[str, Path]]:
    """breast_paillier's first 96 shared rows as the training tables (batches of 32) and
    the next 40 as each party's new rows; the lab's new table also holds 8 rows the
    hospital lacks (dropped by PSI)."""
    source = SAMPLES / "breast_paillier"
    folder.mkdir()
    hospital = pd.read_csv(source / "hospital.csv", dtype={"patient_id": str})
    lab = pd.read_csv(source / "lab.csv", dtype={"patient_id": str})
    shared = [i for i in hospital.patient_id if i in set(lab.patient_id)]
    train, new = shared[:96], shared[96:136]
    lab_only = [i for i in lab.patient_id if i not in set(hospital.patient_id)][:8]
    hospital[hospital.patient_id.isin(train)].to_csv(folder / "hospital.csv", index=False)
    lab[lab.patient_id.isin(train)].to_csv(folder / "lab.csv", index=False)
    paths = {"hospital": folder / "new_hospital.csv", "lab": folder / "new_lab.csv"}
    hospital[hospital.patient_id.isin(new)].to_csv(paths["hospital"], index=False)
    lab[lab.patient_id.isin([*new, *lab_only])].to_csv(paths["lab"], index=False)
    text = (source / "job.toml").read_text()
    assert "batch_size = 128" in text
    (folder / "job.toml").write_text(text.replace("batch_size = 128", "batch_size = 32"))
    return folder / "job.toml", paths


def test_paillier_prediction_over_processes_delivered_to_the_feature_holder(
    tmp_path: Path,
) -> None:
    sample, new = _paillier_sample(tmp_path / "sample")
    extra = {p: f'[[datasets]]\nname = "{NEW}"\nsource = "{path}"' for p, path in new.items()}
    fed = LocalFederation(tmp_path / "fed", sample, party_toml=extra)
    try:
        started = time.perf_counter()
        fed.start()
        fed.wait_connected()
        spec_path = fed.job_spec(epochs=1, precision_bits=20)
        trained = _submit(fed, spec_path, tmp_path / "train.json")
        assert trained["status"] == "succeeded", trained.get("error")
        model = str(trained["job_id"])
        text = spec_path.read_text().replace('data = "data"', f'data = "{NEW}"')
        text += f'\n[predict]\nmodel = "{model}"\ndeliver_to = "lab"\noutput = "scores.csv"\n'
        (fed.root / "p.toml").write_text(text)
        predicted = _submit(fed, fed.root / "p.toml", tmp_path / "p.json")
        wall = time.perf_counter() - started
    finally:
        fed.stop()
    assert predicted["status"] == "succeeded", predicted.get("error")
    scores_path = fed.root / "lab" / "state" / "outputs" / "scores.csv"
    assert predicted["outputs"] == {"lab": {"scores": str(scores_path)}}
    scores = pd.read_csv(scores_path, dtype={"patient_id": str}).set_index("patient_id")
    hospital = pd.read_csv(new["hospital"], dtype={"patient_id": str})
    assert sorted(scores.index) == sorted(hospital["patient_id"])  # the shared rows only

    spec = vertical(load_job(sample))
    spec = spec.model_copy(update={"train": spec.train.model_copy(update={"precision_bits": 20})})
    frames = {p: pd.read_csv(path, dtype={"patient_id": str}) for p, path in new.items()}
    registries = {p: SqliteModelRegistry(fed.root / p / "state" / "models") for p in fed.parties}
    oracle = oracle_scores(spec, registries.__getitem__, model, frames, "patient_id")
    assert sorted(oracle.index) == sorted(scores.index)
    worst = float((scores.loc[oracle.index, "score"] - oracle).abs().max())
    print(f"Paillier train + predict over processes: {wall:.1f} s, scores within {worst:.1e}")
    assert worst < PAILLIER_TOLERANCE, f"scores differ from the oracle by {worst:.2e}"
    assert ((scores["score"] >= 0.5).astype(int) == scores["class"]).all()

    # evaluated at the hospital on its labels, which never left it
    metrics = predicted["metrics"]
    assert isinstance(metrics, dict)
    labels = hospital.set_index("patient_id").loc[oracle.index, "diagnosis"]
    assert metrics["predict"]["rows"] == len(hospital)
    assert metrics["predict"]["auc"] == pytest.approx(roc_auc_score(labels, oracle), abs=1e-3)
    confusion = sum(metrics["predict"][k] for k in ("tp", "fp", "tn", "fn"))
    assert confusion == len(hospital)

    # the scores exist at deliver_to only: not at the hospital, not at the coordinator
    elsewhere = [p for p in fed.root.rglob("scores*") if not p.is_relative_to(fed.root / "lab")]
    assert elsewhere == []
    assert not np.isnan(scores["score"]).any()
