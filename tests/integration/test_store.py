"""The coordinator's SQL store on SQLite (always) and PostgreSQL (when configured)."""

from __future__ import annotations

import sqlalchemy as sa

from coordinator.database import Database
from coordinator.mailbox import Mailbox, MailboxLimits, PutResult
from coordinator.result_book import Recorded, ResultBook
from coordinator.store import DatasetInfo, Job, JobParty, Store
from vfl.runtime.events import AlignReport, EpochReport, Event, MetricsReport, Progress


def _open(url: str) -> Database:
    db = Database(url)
    db.migrate()
    return db


def _job(job_id: str = "j-1") -> Job:
    parties = (
        JobParty("a", "label_holder", False, 0, 0, None),
        JobParty("b", "feature_holder", False, 0, 0, None),
    )
    return Job(job_id, "demo", "vertical", "{}", "operator", "pending", None, 0.0, parties)


def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    db = _open(database_url)
    db.migrate()  # a restart applies nothing twice
    names = set(sa.inspect(db.engine).get_table_names())
    assert {
        "parties",
        "datasets",
        "jobs",
        "job_parties",
        "phases",
        "phase_runs",
        "events",
        "logs",
        "envelopes",
        "alembic_version",
    } <= names
    db.close()


def test_store_keeps_jobs_parties_phases_and_replaces_re_reported_events(database_url: str) -> None:
    db = _open(database_url)
    store = Store(db)
    store.register_party("a", [DatasetInfo("breast", ("id", "x"), 10)])
    store.register_party("a", [DatasetInfo("breast", ("id", "x", "y"), 12)])
    assert store.datasets("a") == {"breast": DatasetInfo("breast", ("id", "x", "y"), 12)}
    store.create_job(_job())
    store.approve("j-1", "a")
    job = store.job("j-1")
    assert job is not None and job.party("a") is not None
    assert [p.approved for p in job.parties] == [True, False]
    store.start_phase("j-1", "align")
    store.record_phase_run("j-1", "align", "a", True, None, 10, 20, "/m")
    store.record_phase_run("j-1", "align", "a", True, None, 10, 20, "/m")  # resent: no error
    assert store.phases_done("j-1") == {"align": {"a"}}
    store.put_event("j-1", "a", "epoch/a/0", '{"v": 1}')
    store.put_event("j-1", "a", "epoch/a/1", '{"v": 2}')
    store.put_event("j-1", "a", "epoch/a/0", '{"v": 3}')
    assert store.events("j-1") == [("a", '{"v": 3}'), ("a", '{"v": 2}')]
    assert [j.id for j in store.jobs(party="b")] == ["j-1"]
    assert store.jobs(party="c") == []
    db.close()


def test_mailbox_is_bounded_deduplicates_and_only_its_party_confirms(database_url: str) -> None:
    db = _open(database_url)
    box = Mailbox(db, MailboxLimits(max_messages=2, max_bytes=1000))
    assert box.put("j", "a", "b", "k", "s#0", b"x" * 10) is PutResult.STORED
    assert box.put("j", "a", "b", "k", "s#0", b"x" * 10) is PutResult.DUPLICATE
    assert box.put("j", "a", "b", "k", "s#1", b"x" * 10) is PutResult.STORED
    assert box.put("j", "a", "b", "k", "s#2", b"x" * 10) is PutResult.FULL
    assert box.put("j", "b", "a", "k", "s#0", b"y" * 990) is PutResult.STORED  # another mailbox
    pending = box.pending("b", after_id=0)
    assert [m.data for m in pending] == [b"x" * 10, b"x" * 10]
    box.confirm("a", pending[0].id)  # party a cannot drop b's mail
    assert len(box.pending("b", 0)) == 2
    box.confirm("b", pending[0].id)
    assert len(box.pending("b", 0)) == 1
    assert box.put("j", "a", "b", "k", "s#2", b"x" * 10) is PutResult.STORED
    assert box.drop_job("j") == 3
    db.close()


def test_relay_quotas_per_job_and_per_sender_hold_back_only_the_flooder(
    database_url: str,
) -> None:
    """A member that floods one job, or many jobs, waits on its own quota; another sender's
    mail, and another job's, still go through."""
    db = _open(database_url)
    limits = MailboxLimits(max_messages=100, max_bytes=10_000, job_bytes=1500, sender_messages=3)
    box = Mailbox(db, limits)
    assert box.put("j", "m", "b", "k", "s#0", b"x" * 1000) is PutResult.STORED
    # per job: 1000 held for b, 1000 more for c would pass c's mailbox but not the job
    assert box.put("j", "m", "c", "k", "s#0", b"x" * 1000) is PutResult.FULL
    assert box.put("j", "b", "c", "k", "s#0", b"x" * 400) is PutResult.STORED
    # per sender: m holds 1 in j; two more jobs reach its count quota, then it waits
    assert box.put("j2", "m", "b", "k", "s#0", b"x") is PutResult.STORED
    assert box.put("j3", "m", "b", "k", "s#0", b"x") is PutResult.STORED
    assert box.put("j4", "m", "b", "k", "s#0", b"x") is PutResult.FULL
    assert box.put("j4", "b", "m", "k", "s#0", b"x") is PutResult.STORED  # b is not held back
    # an empty scope takes one envelope of any size: the largest legal one gets through
    assert box.put("j5", "c", "b", "k", "s#0", b"x" * 5000) is PutResult.STORED
    for mail in box.pending("b", 0):
        if mail.job_id in ("j2", "j3"):
            box.confirm("b", mail.id)
    assert box.put("j4", "m", "b", "k", "s#0", b"x") is PutResult.STORED  # quota freed
    db.close()


def test_result_book_folds_as_events_arrive_like_a_refold_of_the_store(database_url: str) -> None:
    """The oracle is a fresh book, which folds the stored events from scratch."""
    db = _open(database_url)
    store = Store(db)
    store.create_job(_job())
    job = store.job("j-1")
    assert job is not None
    book = ResultBook(store, max_events_per_job=100)
    book.result(job)
    events: list[tuple[str, Event]] = [
        ("b", AlignReport(100, 40, "ecdh")),
        ("a", AlignReport(80, 40, "ecdh")),
        ("a", EpochReport(0, {"loss": 0.7})),
        ("a", EpochReport(1, {"loss": 0.5})),
        ("a", EpochReport(0, {"loss": 0.6})),  # resumed from a checkpoint: replaces epoch 0
        ("a", MetricsReport("validation", {"auc": 0.9})),
        ("b", Progress("train", 1, 2)),
        ("a", Progress("train", 2, 2)),
    ]
    for party, event in events:
        assert book.record(job, party, event) is Recorded.STORED
    assert book.events_read == 0  # folded as they arrived, never read back
    incremental = book.result(job).to_dict()
    assert incremental["history"] == [{"epoch": 0, "loss": 0.6}, {"epoch": 1, "loss": 0.5}]
    fresh = ResultBook(store, max_events_per_job=100)
    assert fresh.result(job).to_dict() == incremental
    assert fresh.progress(job) == book.progress(job) == [Progress("train", 2, 2)]
    assert fresh.events_read == len(events) - 1
    db.close()


def test_result_book_keeps_the_folds_of_recent_jobs_and_refolds_an_evicted_one(
    database_url: str,
) -> None:
    """Memory stays bounded however many jobs were served: with room for one fold, a second
    job evicts the first, which is folded again from the store, to the same result, with
    its count of dropped events kept."""
    db = _open(database_url)
    store = Store(db)
    store.create_job(_job("j-1"))
    store.create_job(_job("j-2"))
    first, second = store.job("j-1"), store.job("j-2")
    assert first is not None and second is not None
    book = ResultBook(store, max_events_per_job=1, max_jobs=1)
    book.record(first, "a", EpochReport(0, {"loss": 0.7}))
    assert book.record(first, "a", Progress("train", 1, 2)) is Recorded.DROPPED
    before = book.result(first).to_dict()
    book.record(second, "a", EpochReport(0, {"loss": 0.4}))  # evicts j-1
    assert book.events_read == 0
    assert book.result(first).to_dict() == before
    assert book.events_read == 1  # j-1's one stored event, read back once
    assert book.dropped(first) == 1
    db.close()
