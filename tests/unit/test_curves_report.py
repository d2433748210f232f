"""The curves report end to end without a network: its wire and stored forms, who may send
it and when (the report policy), and how the result folds it."""

from __future__ import annotations

import pytest

from coordinator.errors import AccessDeniedError, StateError
from coordinator.report_policy import ALLOWED_ROLES, ONLY_IN, admit
from coordinator.store import Job, JobParty
from vfl.config.party_config import REPORT_KINDS
from vfl.curves import MAX_POINTS
from vfl.errors import ProtocolError
from vfl.protocol import reports
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.result import JobResult, ResultCollector
from vfl.runtime.events import CurvesReport

CURVES = CurvesReport("validation", (0.0, 0.5, 1.0), (0.0, 0.25, 1.0), (0.0, 0.75, 1.0))


def _job(mode: str, state: str) -> Job:
    roles = ("label_holder", "feature_holder") if mode == "vertical" else ("source", "target")
    parties = tuple(JobParty(n, r, True, 0, 0, None) for n, r in zip("ab", roles, strict=True))
    return Job("j", "j", mode, "{}", "operator", state, None, 0.0, parties)


def test_curves_survive_the_wire_and_the_store() -> None:
    assert reports.from_proto(reports.to_proto(CURVES)) == CURVES
    assert reports.from_json(reports.to_json(CURVES)) == CURVES
    assert reports.kind_of(CURVES) is reports.EventKind.CURVES
    assert str(reports.EventKind.CURVES) == "curves"
    assert "curves" in REPORT_KINDS  # reported by default, as metrics are


@pytest.mark.parametrize(
    ("depth", "fpr", "tpr", "found"),
    [
        ([0.0, 1.0], [0.0, 1.0], [0.0], "2/2/1 points"),
        ([0.0] * (MAX_POINTS + 3),) * 3 + (f"{MAX_POINTS + 3}/",),
        ([0.0, 1.0], [0.0, 1.5], [0.0, 1.0], "outside"),
        ([0.0, float("nan")], [0.0, 1.0], [0.0, 1.0], "outside"),
        ([0.0, 1.0], [-0.1, 1.0], [0.0, 1.0], "outside"),
    ],
)
def test_malformed_curves_are_refused(
    depth: list[float], fpr: list[float], tpr: list[float], found: str
) -> None:
    msg = pb.Event(curves=pb.CurvesEvent(split="validation", depth=depth, fpr=fpr, tpr=tpr))
    with pytest.raises(ProtocolError, match=found):
        reports.from_proto(msg)


@pytest.mark.parametrize(("mode", "party"), [("vertical", "a"), ("transfer", "a")])
def test_label_holder_and_source_report_curves_while_evaluating(mode: str, party: str) -> None:
    admit(_job(mode, "evaluate"), party, reports.EventKind.CURVES)


@pytest.mark.parametrize(
    ("mode", "match"),
    [
        ("vertical", r"party b is feature_holder .* only label_holder may report curves"),
        ("transfer", r"party b is target .* only source may report curves"),
    ],
)
def test_a_party_without_the_labels_cannot_report_curves(mode: str, match: str) -> None:
    with pytest.raises(AccessDeniedError, match=match):
        admit(_job(mode, "evaluate"), "b", reports.EventKind.CURVES)


@pytest.mark.parametrize("state", ["train", "align", "predict"])
def test_curves_outside_the_evaluate_phase_are_refused(state: str) -> None:
    with pytest.raises(StateError, match=rf"is {state}; .* refused outside evaluate"):
        admit(_job("vertical", state), "a", reports.EventKind.CURVES)
    admit(_job("vertical", state), "a", reports.EventKind.METRICS)  # only curves are bound


@pytest.mark.parametrize("state", ["pending", "succeeded", "failed", "cancelled"])
def test_curves_of_a_job_not_running_are_refused(state: str) -> None:
    with pytest.raises(StateError, match="not running"):
        admit(_job("vertical", state), "a", reports.EventKind.CURVES)


def test_the_policy_covers_every_kind_and_binds_curves_to_one_phase() -> None:
    assert set(ALLOWED_ROLES) == set(reports.EventKind)
    assert ONLY_IN[reports.EventKind.CURVES] == {"evaluate"}


def test_result_folds_curves_per_split_and_a_resend_replaces_them() -> None:
    collector = ResultCollector(JobResult(job="j", job_id="j-1", mode="vertical"))
    collector.report("a", CurvesReport("validation", (0.0, 1.0), (0.0, 1.0), (0.0, 1.0)))
    collector.report("a", CURVES)
    curves = collector.result.curves
    assert list(curves) == ["validation"]
    assert curves["validation"]["roc"] == {"fpr": [0.0, 0.25, 1.0], "tpr": [0.0, 0.75, 1.0]}
    ks = curves["validation"]["ks"]
    assert ks["depth"] == [0.0, 0.5, 1.0] and ks["ks"] == 0.5 and ks["at_depth"] == 0.5


def test_result_with_curves_round_trips_and_old_results_still_load() -> None:
    collector = ResultCollector(JobResult(job="j", job_id="j-1", mode="vertical"))
    collector.report("a", CURVES)
    data = collector.result.to_dict()
    assert JobResult.from_dict(data).to_dict() == data
    del data["curves"]  # a result stored before curves existed
    assert JobResult.from_dict(data).curves == {}


def test_a_prediction_job_reports_curves_while_predicting_only() -> None:
    job = _job("vertical", "predict")
    prediction = Job(
        "p",
        "p",
        "vertical",
        '{"predict": {"model": "m"}}',
        "operator",
        "predict",
        None,
        0.0,
        job.parties,
    )
    admit(prediction, "a", reports.EventKind.CURVES)
    evaluating = Job(
        "p", "p", "vertical", prediction.spec_json, "operator", "align", None, 0.0, job.parties
    )
    with pytest.raises(StateError, match="refused outside predict"):
        admit(evaluating, "a", reports.EventKind.CURVES)
