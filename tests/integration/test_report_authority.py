"""Reports mount the probe against a real coordinator (gRPC + mTLS on 127.0.0.1): a member
must not rewrite a job's result by reporting what its role never computes, after the job
ended, or over another party's report; and reading a result must not cost more as a job
reports more events."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

import coordinator.party_servicer as servicer
from coordinator import report_policy
from coordinator.certs import init_pki
from coordinator.server import CoordinatorServer
from coordinator.tables import EventRow
from tests.integration.harness import (
    PartyEnd,
    add_running_job,
    connect_party,
    credentials,
    start_coordinator,
)
from vfl.config.coordinator_config import ReportLimits, TlsFiles
from vfl.errors import ProtocolError
from vfl.protocol import reports
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.remote import CoordinatorClient
from vfl.runtime.events import (
    AlignReport,
    CurvesReport,
    EpochReport,
    Event,
    MetricsReport,
    Progress,
    StepReport,
)

JOB = "job-reports"
CAP = 500


Federation = tuple[CoordinatorServer, PartyEnd, PartyEnd, CoordinatorClient]


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    """Coordinator, label holder `a`, feature holder `b`, and an operator's client."""
    pki = tmp_path / "pki"
    init_pki(pki, ["127.0.0.1"], ["a", "b"])
    tls = TlsFiles(ca=pki / "ca.pem", cert=pki / "coordinator.pem", key=pki / "coordinator.key")
    server = start_coordinator(tmp_path, tls=tls, reports=ReportLimits(max_events_per_job=CAP))
    add_running_job(server, ("a", "b"), JOB)
    a = connect_party(server.address, "a", tmp_path, credentials(pki, "a"))
    b = connect_party(server.address, "b", tmp_path, credentials(pki, "b"))
    operator = CoordinatorClient(
        grpc.secure_channel(server.address, credentials(pki, "operator")), []
    )
    yield server, a, b, operator
    operator.close()
    a.close()
    b.close()
    server.stop(0)


def _report(party: PartyEnd, event: Event, wait: bool = True) -> None:
    msg = pb.PartyMessage(report=pb.Report(job_id=JOB, event=reports.to_proto(event)))
    party.link.submit(msg, wait=wait)


def test_feature_holder_cannot_rewrite_metrics_or_history(federation: Federation) -> None:
    server, a, b, operator = federation
    _report(a, EpochReport(0, {"loss": 0.4}))
    _report(a, MetricsReport("validation", {"auc": 0.93}))
    before = operator.result(JOB)
    with pytest.raises(ProtocolError, match=r"party b is feature_holder .* only label_holder"):
        _report(b, MetricsReport("validation", {"auc": 0.5}))
    with pytest.raises(ProtocolError, match="only label_holder may report epoch"):
        _report(b, EpochReport(7, {"loss": 9.9}))
    assert operator.result(JOB) == before
    assert before["metrics"] == {"validation": {"auc": 0.93}}
    assert {party for party, _ in server.store.events(JOB)} == {"a"}
    _report(b, Progress("train", 1, 2))  # the stream keeps serving what b may report
    assert [p.phase for p in operator.job(JOB).progress] == ["train"]


def test_only_the_label_holder_reports_curves_and_only_while_evaluating(
    federation: Federation,
) -> None:
    server, a, b, operator = federation
    curves = CurvesReport("validation", (0.0, 0.5, 1.0), (0.0, 0.2, 1.0), (0.0, 0.9, 1.0))
    with pytest.raises(ProtocolError, match=r"is train; .* curves report is refused outside"):
        _report(a, curves)
    server.store.set_state(JOB, "evaluate")
    with pytest.raises(ProtocolError, match=r"party b is feature_holder .* only label_holder"):
        _report(b, CurvesReport("validation", (0.0, 1.0), (0.0, 0.0), (0.0, 0.0)))
    _report(a, curves)
    result = operator.result(JOB)
    assert result["curves"]["validation"]["roc"] == {"fpr": [0.0, 0.2, 1.0], "tpr": [0.0, 0.9, 1.0]}
    assert {party for party, _ in server.store.events(JOB)} == {"a"}


def test_report_after_the_job_ended_is_refused(federation: Federation) -> None:
    server, a, _, operator = federation
    _report(a, MetricsReport("validation", {"auc": 0.93}))
    server.store.set_state(JOB, "succeeded")
    before = operator.result(JOB)
    with pytest.raises(ProtocolError, match="is succeeded, not running"):
        _report(a, MetricsReport("validation", {"auc": 0.5}))
    with pytest.raises(ProtocolError, match="is succeeded, not running"):
        _report(a, EpochReport(3, {"loss": 0.1}))
    assert operator.result(JOB) == before
    assert len(server.store.events(JOB)) == 1


def test_align_counts_are_kept_per_party(federation: Federation) -> None:
    _, a, b, operator = federation
    _report(b, AlignReport(rows=100, intersection_size=40, protocol="ecdh"))
    _report(a, AlignReport(rows=80, intersection_size=999, protocol="ecdh"))
    align = operator.result(JOB)["align"]
    assert align["party_rows"] == {"a": 80, "b": 100}
    assert align["intersection_size"] == 40  # not the label holder's, reported last


def _count_reads(server: CoordinatorServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Events read back from the store (to refold a result), counted as they are returned."""
    read = [0]
    events = server.store.events

    def counting(job_id: str) -> list[tuple[str, str]]:
        out = events(job_id)
        read[0] += len(out)
        return out

    monkeypatch.setattr(server.store, "events", counting)
    return lambda: read[0]


def _steps(a: PartyEnd, count: int, first: int = 0) -> None:
    for i in range(first, first + count):
        _report(a, StepReport(i // 100, i % 100, 0.5), wait=False)
    _report(a, MetricsReport("validation", {"auc": 0.93}))  # in order: all steps handled


def _stored_steps(server: CoordinatorServer, count: int) -> None:
    """Step events already in the store, as a coordinator restarted mid-job finds them (one
    transaction: 15,000 reports one by one over the stream take a minute)."""
    rows = [
        {
            "job_id": JOB,
            "party": "a",
            "key": reports.dedupe_key("a", step),
            "payload": reports.to_json(step),
            "created_at": 0.0,
        }
        for step in (StepReport(i // 100, i % 100, 0.5) for i in range(count))
    ]
    with server.db.session() as s:
        s.execute(sa.insert(EventRow), rows)


def test_get_job_reads_no_events_however_many_were_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = tmp_path / "pki"
    init_pki(pki, ["127.0.0.1"], ["a"])
    tls = TlsFiles(ca=pki / "ca.pem", cert=pki / "coordinator.pem", key=pki / "coordinator.key")
    server = start_coordinator(tmp_path, tls=tls)  # the default cap holds them all
    add_running_job(server, ("a", "b"), JOB)
    _stored_steps(server, 15_000)
    a = connect_party(server.address, "a", tmp_path, credentials(pki, "a"))
    operator = CoordinatorClient(
        grpc.secure_channel(server.address, credentials(pki, "operator")), []
    )
    try:
        read = _count_reads(server, monkeypatch)
        operator.job(JOB)
        assert read() == 15_000  # once, on the first use since the restart
        _steps(a, 100, first=15_000)
        for _ in range(3):
            assert operator.result(JOB)["metrics"]["validation"] == {"auc": 0.93}
        assert read() == 15_000  # none per GetJob, however many events the job has
        assert len(server.store.events(JOB)) == 15_101
    finally:
        operator.close()
        a.close()
        server.stop(0)


def test_step_events_beyond_the_cap_are_dropped_and_final_metrics_kept(
    federation: Federation,
) -> None:
    server, a, _, operator = federation
    _steps(a, CAP + 300)
    _report(a, EpochReport(0, {"loss": 0.4}))
    stored = [reports.kind_of(reports.from_json(p)) for _, p in server.store.events(JOB)]
    assert stored.count(reports.EventKind.STEP) == CAP
    assert len(stored) == CAP + 2
    assert server.book.dropped(server.store.job(JOB)) == 300  # type: ignore[arg-type]
    result = operator.result(JOB)
    assert result["metrics"] == {"validation": {"auc": 0.93}}
    assert result["history"] == [{"epoch": 0, "loss": 0.4}]
    assert any(
        "further step and progress events are dropped" in line.text for line in operator.logs(JOB)
    )


def test_no_report_lands_after_the_job_ends_however_the_two_interleave(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: a report admitted while the job is live, then the job ends, then the report
    is stored. Here the admission pauses until a cancel has been asked for; the cancel must
    wait for the report to be stored, so every stored event precedes the end."""
    server, a, _, _ = federation
    admitted, cancelled = threading.Event(), threading.Event()
    real_admit = report_policy.admit

    def slow_admit(*args: Any) -> None:
        real_admit(*args)
        admitted.set()
        cancelled.wait(0.5)  # give the cancel every chance to end the job meanwhile

    monkeypatch.setattr(servicer, "admit", slow_admit)

    def cancel_once_admitted() -> None:
        admitted.wait(30)
        server.lifecycle.cancel(JOB, "operator")
        cancelled.set()

    canceller = threading.Thread(target=cancel_once_admitted)
    canceller.start()
    _report(a, EpochReport(0, {"loss": 0.4}))
    canceller.join(30)
    ended = next(at for at, _, text in server.store.logs(JOB) if text.startswith("cancelled"))
    with server.db.session() as s:
        stored = s.scalars(sa.select(EventRow.created_at).where(EventRow.job_id == JOB)).all()
    assert stored and all(at <= ended for at in stored)
