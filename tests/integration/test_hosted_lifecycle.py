"""A horizontal job's phases wait for the program the coordinator hosts (participant
`coordinator`) as they wait for each party; its failure fails the job naming it, and a
resume runs it again. No party can report a result in the coordinator's name."""

from __future__ import annotations

import pytest

from coordinator.database import Database
from coordinator.errors import AccessDeniedError
from coordinator.lifecycle import JobLifecycle
from coordinator.mailbox import Mailbox, MailboxLimits
from coordinator.sql_store import SqlStore
from coordinator.store import Job, JobParty


def _horizontal(database_url: str) -> tuple[JobLifecycle, str]:
    db = Database(database_url)
    db.migrate()
    life = JobLifecycle(SqlStore(db), Mailbox(db, MailboxLimits()), lambda job_id: None)
    parties = tuple(JobParty(p, "sample_holder", False, 0, 0, None) for p in ("a", "b"))
    job = Job("h-1", "h", "horizontal", "{}", "operator", "pending", None, 0.0, parties)
    life.store.create_job(job)
    for party in ("a", "b"):
        life.approve(job.id, party)
    assert life.require(job.id).state == "train"
    return life, job.id


def test_phase_advances_only_once_the_hosted_program_finished_it(database_url: str) -> None:
    life, job_id = _horizontal(database_url)
    for party in ("a", "b"):
        life.phase_done(job_id, "train", party, True, "", 0, 0, "")
    assert life.require(job_id).state == "train"  # the aggregator has not finished
    life.hosted_done(job_id, "train", True, "")
    assert life.require(job_id).state == "evaluate"
    life.hosted_done(job_id, "evaluate", True, "")  # the coordinator may finish first
    assert life.require(job_id).state == "evaluate"
    for party in ("a", "b"):
        life.phase_done(job_id, "evaluate", party, True, "", 0, 0, "")
    assert life.require(job_id).state == "succeeded"


def test_hosted_failure_fails_the_job_naming_the_coordinator_and_resume_reruns_it(
    database_url: str,
) -> None:
    life, job_id = _horizontal(database_url)
    reason = "round 2: 1 of 2 sampled parties sent an update"
    life.hosted_done(job_id, "train", False, reason)
    failed = life.require(job_id)
    assert failed.state == "failed"
    assert failed.error == f"coordinator failed train: {reason}"
    life.resume(job_id, "operator")
    assert life.require(job_id).state == "train"
    assert "coordinator" not in life.store.phases_done(job_id).get("train", set())


def test_a_party_cannot_report_a_phase_as_the_coordinator(database_url: str) -> None:
    life, job_id = _horizontal(database_url)
    with pytest.raises(AccessDeniedError, match="party coordinator is not part of job"):
        life.phase_done(job_id, "train", "coordinator", True, "", 0, 0, "")
