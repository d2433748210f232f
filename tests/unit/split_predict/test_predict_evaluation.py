"""Federated evaluation on new labelled rows: metrics, confusion counts and ROC/KS points
in the result; the labels never leave the label holder, and a feature holder receives in a
prediction job nothing it did not receive in training's evaluate."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_predict.harness import predict_dict
from vfl.algorithms.split import predict_label_holder
from vfl.api import simulate
from vfl.protocol.envelope import Envelope
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.transcript import Transcript

SECRETS = {p: hashlib.sha256(p.encode()).digest() for p in ("bank", "shop")}
"""Fixed party secrets, job id and spec digest (every derived stream binds all three), so
the model under test is the same every run: with fresh ones the initial weights differ
each time, and on 200 rows an unlucky draw trained a constant scorer now and then (AUC
exactly 0.5), failing the checks below for no fault of theirs. Secrets alone were not
enough: the job id was new per run and the spec's digest covers its temporary data
paths, and CI drew a constant scorer again."""
JOB_ID = "predict-evaluation-training"
SPEC_DIGEST = hashlib.sha256(b"predict-evaluation-training spec").digest()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    home = tmp_path_factory.mktemp("home")
    (home / "train").mkdir()
    train = job_dict(synthetic_vertical(home / "train", {"bank": 3, "shop": 2}, rows=200))
    result = simulate(
        job_spec(train),
        home=home,
        workdir=home / "run",
        job_id=JOB_ID,
        party_secrets=SECRETS,
        spec_digest=SPEC_DIGEST,
    )
    assert result.status == "succeeded", result.error
    return home, train, result.job_id


def _new(home: Path, name: str) -> dict[str, Path]:
    (home / name).mkdir()
    return synthetic_vertical(home / name, {"bank": 3, "shop": 2}, rows=180, seed=3)


def test_labelled_rows_give_metrics_and_curves_that_match_the_scores(
    trained: tuple[Path, dict[str, Any], str],
) -> None:
    home, train, model = trained
    new = _new(home, "labelled")
    out = home / "labelled.csv"
    spec = job_spec(predict_dict(train, new, model=model, output=str(out), chunk_rows=40))
    result = simulate(spec, home=home, workdir=home / "p1")
    assert result.status == "succeeded", result.error
    scores = pd.read_csv(out, dtype={"id": str}).set_index("id")
    labels = pd.read_csv(new["bank"], dtype={"id": str}).set_index("id")["y"]
    y = labels.reindex(scores.index).to_numpy()
    found = result.metrics["predict"]
    assert found["auc"] == pytest.approx(skm.roc_auc_score(y, scores["score"]), abs=1e-9)
    assert found["rows"] == len(y)
    confusion = skm.confusion_matrix(y, scores["class"])
    assert [found["tn"], found["fp"], found["fn"], found["tp"]] == confusion.ravel().tolist()
    assert "predict" in result.curves and result.curves["predict"]["roc"]


def test_evaluation_without_an_output_writes_nothing(
    trained: tuple[Path, dict[str, Any], str],
) -> None:
    home, train, model = trained
    new = _new(home, "evaluate_only")
    spec = job_spec(predict_dict(train, new, model=model))
    result = simulate(spec, home=home, workdir=home / "p2")
    assert result.status == "succeeded", result.error
    assert result.metrics["predict"]["auc"] > 0.5
    assert result.outputs == {}


def _beyond_evaluate(
    home: Path, train: dict[str, Any], model: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> set[str]:
    """The kinds of message addressed to the shop in a prediction job's predict phase and
    not in a training job's evaluate phase: every envelope the hub carries, read or not.
    No message the shop reads carries the labels' values."""
    posted: list[Envelope] = []
    post = InMemoryHub.post

    def spy(self: InMemoryHub, envelope: Envelope) -> None:
        posted.append(envelope)
        post(self, envelope)

    monkeypatch.setattr(InMemoryHub, "post", spy)
    new = _new(home, name)
    spec = job_spec(predict_dict(train, new, model=model, output=str(home / f"{name}.csv")))
    predicting = Transcript()
    done = simulate(spec, home=home, workdir=home / f"{name}-p", transcript=predicting)
    assert done.status == "succeeded", done.error
    predicted = {e.kind for e in posted if e.dst == "shop" and e.seq.startswith("predict")}
    posted.clear()
    simulate(job_spec(train), home=home / name, workdir=home / f"{name}-t")
    evaluated = {e.kind for e in posted if e.dst == "shop" and e.seq.startswith("evaluate")}
    labels = np.sort(pd.read_csv(new["bank"])["y"].to_numpy(np.float64))
    for received in predicting.received("shop"):
        for value in vars(received.message).values():
            if isinstance(value, np.ndarray) and value.size == labels.size:
                assert not np.array_equal(np.sort(value.ravel()), labels)
    return predicted - evaluated


def test_a_feature_holder_receives_nothing_it_did_not_in_training_evaluate(
    trained: tuple[Path, dict[str, Any], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, train, model = trained
    assert _beyond_evaluate(home, train, model, "transcript", monkeypatch) == set()


def test_the_check_catches_a_label_holder_that_sends_scores_to_a_feature_holder(
    trained: tuple[Path, dict[str, Any], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deliberately broken label holder: scores to the shop although deliver_to is the
    bank. The check above must see it."""
    home, train, model = trained
    init = predict_label_holder._Delivery.__init__

    def leaky(self: Any, *args: Any) -> None:
        init(self, *args)
        self.sends, self.deliver_to, self.sink = True, "shop", None

    monkeypatch.setattr(predict_label_holder._Delivery, "__init__", leaky)
    assert _beyond_evaluate(home, train, model, "broken", monkeypatch) == {"split.PredictScores"}
