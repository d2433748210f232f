"""Who may report what in a transfer job, and the output report on the wire: the source
holds the results; only the target writes a file, and its report carries a path only."""

from __future__ import annotations

import pytest

from coordinator.errors import AccessDeniedError
from coordinator.report_policy import admit
from coordinator.store import Job, JobParty
from vfl.protocol import reports
from vfl.protocol.reports import EventKind
from vfl.result import JobResult, ResultCollector
from vfl.runtime.events import OutputReport


def _job(state: str = "predict") -> Job:
    parties = (
        JobParty("hospital", "source", True, 0, 0, None),
        JobParty("clinic", "target", True, 0, 0, None),
    )
    return Job("j", "j", "transfer", "{}", "operator", state, None, 0.0, parties)


@pytest.mark.parametrize(
    "kind", [EventKind.EPOCH, EventKind.METRICS, EventKind.STEP, EventKind.ALIGN]
)
def test_the_source_reports_the_results(kind: EventKind) -> None:
    admit(_job(), "hospital", kind)


@pytest.mark.parametrize("kind", [EventKind.EPOCH, EventKind.METRICS, EventKind.PRIVACY])
def test_the_target_cannot_report_results(kind: EventKind) -> None:
    with pytest.raises(AccessDeniedError, match="party clinic is target"):
        admit(_job(), "clinic", kind)


def test_only_the_target_reports_an_output() -> None:
    admit(_job(), "clinic", EventKind.OUTPUT)
    with pytest.raises(AccessDeniedError, match="only target may report output"):
        admit(_job(), "hospital", EventKind.OUTPUT)


def test_an_output_report_round_trips_and_lands_under_outputs() -> None:
    event = OutputReport("predictions", "/srv/clinic/jobs/j/outputs/predictions.csv")
    assert reports.from_proto(reports.to_proto(event)) == event
    assert reports.from_json(reports.to_json(event)) == event
    result = JobResult("j", "j", "transfer")
    ResultCollector(result).report("clinic", event)
    assert result.outputs == {"clinic": {"predictions": event.path}}
    assert JobResult.from_dict(result.to_dict()).outputs == result.outputs
