"""`vfl job resume` in the coordinator's state machine, and the sweep of ended jobs' mail.

A failed job goes back into the phase it failed in, with the failed runs forgotten and the
finished ones kept; anything else (a live, succeeded, cancelled or declined job, or one
past the resume window) is refused with one line saying why.
"""

from __future__ import annotations

import time

import pytest

from coordinator.database import Database
from coordinator.errors import StateError
from coordinator.lifecycle import JobLifecycle
from coordinator.mailbox import Mailbox, MailboxLimits
from coordinator.sql_store import SqlStore
from coordinator.store import Job, JobParty


def _lifecycle(url: str, window_s: float = 3600) -> tuple[JobLifecycle, list[str]]:
    db = Database(url)
    db.migrate()
    told: list[str] = []
    return JobLifecycle(SqlStore(db), Mailbox(db, MailboxLimits()), told.append, window_s), told


def _running(life: JobLifecycle, job_id: str = "j-1") -> str:
    parties = (
        JobParty("a", "label_holder", False, 0, 0, None),
        JobParty("b", "feature_holder", False, 0, 0, None),
    )
    life.store.create_job(
        Job(job_id, "demo", "vertical", "{}", "operator", "pending", None, 0.0, parties)
    )
    life.approve(job_id, "a")
    life.approve(job_id, "b")
    for party in ("a", "b"):
        life.phase_done(job_id, "align", party, True, "", 0, 0, "")
    assert life.require(job_id).state == "train"
    return job_id


def test_a_failed_job_resumes_into_its_failed_phase_and_can_then_succeed(
    database_url: str,
) -> None:
    life, told = _lifecycle(database_url)
    job_id = _running(life)
    life.mailbox.put(job_id, "a", "b", "k", "s#0", b"x")
    life.phase_done(
        job_id, "train", "b", False, "b cannot write its local state: OSError", 0, 0, ""
    )
    failed = life.require(job_id)
    assert failed.state == "failed" and "party b failed train" in (failed.error or "")
    assert life.mailbox.count(job_id) == 0  # bodies go when the job ends

    told.clear()
    resumed = life.resume(job_id, "operator")
    assert (resumed.state, resumed.error) == ("train", None)
    assert told == [job_id]  # the parties are told, and restart train from checkpoints
    assert life.store.phases_done(job_id) == {"align": {"a", "b"}}
    for party in ("a", "b"):
        life.phase_done(job_id, "train", party, True, "", 0, 0, "")
        life.phase_done(job_id, "evaluate", party, True, "", 0, 0, "")
    assert life.require(job_id).state == "succeeded"
    assert any("resumed by operator" in text for _, _, text in life.store.logs(job_id))


def test_only_a_job_that_failed_in_a_phase_within_the_window_resumes(database_url: str) -> None:
    life, _ = _lifecycle(database_url, window_s=3600)
    live = _running(life, "live")
    with pytest.raises(StateError, match="live is train; only a failed job can resume"):
        life.resume(live, "operator")
    life.cancel(live, "operator")
    with pytest.raises(StateError, match="is cancelled"):
        life.resume(live, "operator")

    life.store.create_job(
        Job(
            "declined",
            "d",
            "vertical",
            "{}",
            "a",
            "pending",
            None,
            0.0,
            (JobParty("a", "label_holder", False, 0, 0, None),),
        )
    )
    life.decline("declined", "a", "outside policy")
    with pytest.raises(StateError, match="failed before any phase ran; submit it again"):
        life.resume("declined", "a")

    old = _running(life, "old")
    life.phase_done(old, "train", "a", False, "disk full", 0, 0, "")
    life.resume_window_s = 0.0
    time.sleep(0.01)
    with pytest.raises(StateError, match="resume_window_s"):
        life.resume(old, "operator")


def test_the_sweep_drops_mail_an_interrupted_end_left_behind(database_url: str) -> None:
    """The coordinator died between ending the job and dropping its mail: the sweep (also
    run at start, by recover) drops it; a live job's mail stays (the control)."""
    life, _ = _lifecycle(database_url)
    ended, live = _running(life, "ended"), _running(life, "live")
    life.store.set_state(ended, "failed", "party a failed train: boom")  # no drop_job: crash
    life.mailbox.put(ended, "a", "b", "k", "s#0", b"x")
    life.mailbox.put(live, "a", "b", "k", "s#0", b"x")
    assert life.sweep() == 1
    assert (life.mailbox.count(ended), life.mailbox.count(live)) == (0, 1)
