"""The label holder's privacy event reaches a deployed job's result as it does a simulated
one: party filter → protobuf → the coordinator's store → the folded result JSON."""

from __future__ import annotations

from typing import Any, cast

from coordinator.database import Database
from coordinator.result_book import ResultBook
from coordinator.results import job_result
from coordinator.sql_store import SqlStore
from coordinator.store import Job, JobParty
from parties.coordinator_link import CoordinatorLink
from parties.coordinator_reporter import CoordinatorReporter
from vfl.config.party_config import REPORT_KINDS
from vfl.protocol import reports
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.result import JobResult, ResultCollector
from vfl.runtime.events import PrivacyReport

EVENT = PrivacyReport(
    target_epsilon=1.0, delta=1e-5, clip=1.0, noise_multiplier=5.3, epochs=2, epsilon={"b": 0.99}
)
EXPECTED = {
    "label_dp": {
        "target_epsilon": 1.0,
        "delta": 1e-5,
        "clip": 1.0,
        "noise_multiplier": 5.3,
        "epochs": 2,
    },
    "epsilon": {"b": 0.99},
    "attacks": [],
    "mechanisms": {},
}


class FakeLink:
    def __init__(self) -> None:
        self.sent: list[pb.PartyMessage] = []

    def submit(self, msg: pb.PartyMessage, wait: bool = True) -> None:
        self.sent.append(msg)


def _forwarded(kinds: tuple[str, ...]) -> list[pb.PartyMessage]:
    link = FakeLink()
    CoordinatorReporter(cast(CoordinatorLink, link), "j-1", kinds).report("a", EVENT)
    return link.sent


def test_privacy_event_travels_from_the_label_holder_to_the_deployed_result(
    database_url: str,
) -> None:
    assert "privacy" in REPORT_KINDS  # reported by default
    (msg,) = _forwarded(REPORT_KINDS)
    event = reports.from_proto(pb.Event.FromString(msg.report.event.SerializeToString()))
    assert event == EVENT
    db = Database(database_url)
    db.migrate()
    store = SqlStore(db)
    parties = (
        JobParty("a", "label_holder", True, 0, 0, None),
        JobParty("b", "feature_holder", True, 0, 0, None),
    )
    job = Job("j-1", "demo", "vertical", "{}", "operator", "succeeded", None, 0.0, parties)
    store.create_job(job)
    store.put_event("j-1", "a", reports.dedupe_key("a", event), reports.to_json(event))
    stored = store.job("j-1")
    assert stored is not None
    deployed: dict[str, Any] = job_result(store, ResultBook(store, 100), stored)
    simulated = JobResult("demo", "j-1", "vertical")
    ResultCollector(simulated).report("a", EVENT)
    assert deployed["privacy"] == simulated.to_dict()["privacy"] == EXPECTED
    db.close()


def test_a_party_that_does_not_report_privacy_keeps_it_home() -> None:
    assert _forwarded(("progress", "metrics")) == []


def test_calibrated_and_hand_set_noise_both_survive_the_wire() -> None:
    for target in (None, 2.5):
        event = PrivacyReport(target, 1e-6, 0.5, 1.25, 7, {"b": 3.0, "c": 3.0})
        assert reports.from_proto(reports.to_proto(event)) == event
        assert reports.from_json(reports.to_json(event)) == event
