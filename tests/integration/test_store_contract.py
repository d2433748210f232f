"""One contract, two stores: what the coordinator may rely on, whichever store it runs on.

Every test runs against the in-memory twin (`MemoryStore`) and the SQL store on SQLite
(always) and PostgreSQL (when VFL_TEST_POSTGRES_URL is set), as the channel contract suite
does for the two channels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.database import Database
from coordinator.memory_store import MemoryStore
from coordinator.result_book import Recorded, ResultBook
from coordinator.sql_store import SqlStore
from coordinator.store import DatasetInfo, Job, JobParty, Store
from tests.integration.conftest import fresh_database
from vfl.config.phase_plan import JobState, Phase
from vfl.runtime.events import AlignReport, EpochReport, Event, MetricsReport, Progress


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    with fresh_database(str(request.param), tmp_path) as url:
        db = Database(url)
        db.migrate()
        yield SqlStore(db)
        db.close()


def _job(job_id: str = "j-1", parties: tuple[str, ...] = ("a", "b")) -> Job:
    roles = ("label_holder", *["feature_holder"] * (len(parties) - 1))
    members = tuple(JobParty(n, r, False, 0, 0, None) for n, r in zip(parties, roles, strict=True))
    return Job(job_id, "demo", "vertical", "{}", "operator", JobState.PENDING, None, 0.0, members)


def test_store_keeps_jobs_parties_phases_and_replaces_re_reported_events(store: Store) -> None:
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


def test_a_new_job_starts_unapproved_with_nothing_counted(store: Store) -> None:
    store.create_job(_job(parties=("b", "a")))
    job = store.job("j-1")
    assert job is not None
    assert [p.name for p in job.parties] == ["a", "b"]  # sorted by name
    assert all(not p.approved and p.bytes_sent == p.bytes_received == 0 for p in job.parties)
    assert job.state == "pending" and job.error is None and job.created_at > 0
    assert store.job("nope") is None and store.job_state("nope") is None


def test_state_changes_keep_the_error_unless_given_a_new_one(store: Store) -> None:
    store.create_job(_job())
    store.set_state("j-1", JobState.FAILED, "party a failed train: boom")
    store.set_state("j-1", JobState.FAILED)
    job = store.job("j-1")
    assert job is not None and job.error == "party a failed train: boom"
    assert store.job_state("j-1") == "failed"


def test_jobs_list_the_newest_first_up_to_the_limit(store: Store) -> None:
    for n in range(3):
        store.create_job(_job(f"j-{n}", parties=("a", "b") if n != 1 else ("c", "b")))
        store.set_state(f"j-{n}", JobState.ALIGN)
    assert len(store.jobs(limit=2)) == 2
    assert {j.id for j in store.jobs()} == {"j-0", "j-1", "j-2"}
    assert {j.id for j in store.jobs(party="a")} == {"j-0", "j-2"}
    assert store.jobs(party="zed") == []


def test_a_phase_starts_once_and_is_timed_when_finished(store: Store) -> None:
    store.create_job(_job())
    store.start_phase("j-1", Phase.ALIGN)
    first = store.phase_timings("j-1")[0].started_at
    store.start_phase("j-1", Phase.ALIGN)  # a recovered coordinator enters it again
    store.finish_phase("j-1", Phase.ALIGN)
    store.start_phase("j-1", Phase.TRAIN)
    timings = store.phase_timings("j-1")
    assert [t.phase for t in timings] == ["align", "train"]
    assert timings[0].started_at == first and timings[0].finished_at is not None
    assert timings[1].finished_at is None


def test_phase_runs_count_successes_and_keep_the_last_model_path(store: Store) -> None:
    store.create_job(_job())
    store.record_phase_run("j-1", Phase.ALIGN, "a", True, None, 1, 2, "/m/a")
    store.record_phase_run("j-1", Phase.ALIGN, "b", False, "no rows", 3, 4, None)
    store.record_phase_run("j-1", Phase.TRAIN, "a", True, None, 10, 20, "")
    assert store.phases_done("j-1") == {"align": {"a"}, "train": {"a"}}
    assert store.phases_done("j-1", party="b") == {}
    job = store.job("j-1")
    assert job is not None
    a, b = job.parties
    assert (a.bytes_sent, a.bytes_received, a.model_path) == (10, 20, "/m/a")
    assert (b.bytes_sent, b.bytes_received, b.model_path) == (3, 4, None)


def test_parties_keep_their_latest_datasets_and_sealing_keys(store: Store) -> None:
    store.register_party("b", [DatasetInfo("y", ("id",), 1), DatasetInfo("x", ("id",), 2)])
    store.register_party("a", [], sealing_key=b"statement")
    store.touch_party("a")
    store.touch_party("nobody")
    listed = store.parties()
    assert [(name, [d.name for d in ds]) for name, _, ds in listed] == [
        ("a", []),
        ("b", ["x", "y"]),
    ]
    assert store.parties_named(["a", "c"]) == {"a"}
    assert store.sealing_keys(["a", "b", "c"]) == {"a": b"statement"}
    store.register_party("a", [])  # a node restarted without a key
    assert store.sealing_keys(["a"]) == {}


def test_logs_keep_their_order(store: Store) -> None:
    store.create_job(_job())
    store.log("j-1", "coordinator", "submitted")
    store.log("j-1", "a", "approved by a")
    assert [(party, text) for _, party, text in store.logs("j-1")] == [
        ("coordinator", "submitted"),
        ("a", "approved by a"),
    ]
    assert store.logs("j-2") == []


def test_result_book_folds_as_events_arrive_like_a_refold_of_the_store(store: Store) -> None:
    """The oracle is a fresh book, which folds the stored events from scratch."""
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


def test_result_book_keeps_the_folds_of_recent_jobs_and_refolds_an_evicted_one(
    store: Store,
) -> None:
    """Memory stays bounded however many jobs were served: with room for one fold, a second
    job evicts the first, which is folded again from the store, to the same result, with
    its count of dropped events kept."""
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


def test_a_failed_phase_is_found_and_reopened_keeping_the_finished_runs(store: Store) -> None:
    store.create_job(_job())
    store.start_phase("j-1", Phase.ALIGN)
    for party in ("a", "b"):
        store.record_phase_run("j-1", Phase.ALIGN, party, True, None, 0, 0, None)
    store.finish_phase("j-1", Phase.ALIGN)
    store.start_phase("j-1", Phase.TRAIN)
    assert store.failed_phase("j-1") is None
    store.record_phase_run("j-1", Phase.TRAIN, "a", True, None, 0, 0, None)
    store.record_phase_run("j-1", Phase.TRAIN, "b", False, "disk full", 0, 0, None)
    store.set_state("j-1", JobState.FAILED, "party b failed train: disk full")
    failed = store.failed_phase("j-1")
    assert failed is not None and failed[0] == Phase.TRAIN
    store.reopen("j-1", Phase.TRAIN)
    job = store.job("j-1")
    assert job is not None and (job.state, job.error) == (Phase.TRAIN, None)
    assert store.phases_done("j-1") == {Phase.ALIGN: {"a", "b"}, Phase.TRAIN: {"a"}}
    assert store.failed_phase("j-1") is None
