"""The report policy admits the horizontal aggregator's results from the coordinator's
hosted program only: a sample holder that reports metrics or rounds is forging them."""

from __future__ import annotations

import pytest

from coordinator.errors import AccessDeniedError, StateError
from coordinator.report_policy import admit
from coordinator.store import Job, JobParty
from vfl.protocol.reports import EventKind


def _job(mode: str, state: str = "train") -> Job:
    role = "sample_holder" if mode == "horizontal" else "label_holder"
    parties = (JobParty("a", role, True, 0, 0, None), JobParty("b", role, True, 0, 0, None))
    return Job("j", "j", mode, "{}", "operator", state, None, 0.0, parties)


@pytest.mark.parametrize(
    "kind", [EventKind.EPOCH, EventKind.METRICS, EventKind.PRIVACY, EventKind.PROGRESS]
)
def test_hosted_aggregator_reports_its_results(kind: EventKind) -> None:
    admit(_job("horizontal"), "coordinator", kind)


@pytest.mark.parametrize("kind", [EventKind.EPOCH, EventKind.METRICS, EventKind.PRIVACY])
def test_sample_holder_cannot_report_the_federations_results(kind: EventKind) -> None:
    with pytest.raises(AccessDeniedError, match=r"party a is sample_holder .* only aggregator"):
        admit(_job("horizontal"), "a", kind)


def test_coordinator_reports_nothing_in_a_job_without_hosted_programs() -> None:
    with pytest.raises(AccessDeniedError, match="not part of job"):
        admit(_job("vertical"), "coordinator", EventKind.METRICS)


def test_hosted_report_after_the_end_is_refused() -> None:
    with pytest.raises(StateError, match="not running"):
        admit(_job("horizontal", state="succeeded"), "coordinator", EventKind.METRICS)
