"""The party dashboard's *what will leave this silo* for a prediction job: the predict
phase's messages only, no gradient, and the scores only to deliver_to."""

from __future__ import annotations

from pathlib import Path

from dashboard.queries.outbound import outbound
from tests.factories import job_dict, job_spec
from tests.unit.split_predict.harness import predict_dict

PATHS = {"bank": Path("bank.csv"), "shop": Path("shop.csv")}


def test_a_prediction_job_sends_the_evaluate_exchange_and_scores_to_deliver_to_only() -> None:
    spec = job_spec(
        predict_dict(job_dict(PATHS), PATHS, model="m", output="s.csv", deliver_to="shop")
    )
    shop = [(o.phase, o.kind) for o in outbound(spec, "shop")]
    bank = [(o.phase, o.kind, o.to) for o in outbound(spec, "bank")]
    assert [k for p, k in shop if p != "align"] == ["split.TrainHello", "split.Activations"]
    assert [(k, to) for p, k, to in bank if p != "align"] == [("split.PredictScores", ("shop",))]
    assert not [p for p, *_ in [*shop, *bank] if p in ("train", "evaluate")]


def test_scores_stay_at_the_label_holder_when_it_is_deliver_to() -> None:
    spec = job_spec(predict_dict(job_dict(PATHS), PATHS, model="m", output="s.csv"))
    assert not [o for o in outbound(spec, "bank") if o.phase == "predict"]
