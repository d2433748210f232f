"""The dashboards' read-only queries against a seeded store: SQLite always, PostgreSQL
when VFL_TEST_POSTGRES_URL is set (as the store's own contract suite)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.queries import (
    CoordinatorDb,
    JobFilter,
    NodeDb,
    bytes_per_phase,
    failure_line,
    federation,
    job_logs,
    job_overview,
    job_result,
    jobs_page,
    ledger_jobs,
    ledger_lines,
    local_models,
    log_parties,
    outbound,
    phase_timeline,
    step_losses,
)
from tests.dashboard_seed import SPEC, Seeded, seed_coordinator, seed_many_jobs, seed_party
from tests.integration.conftest import fresh_database
from vfl.config.loading import parse_job


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Seeded, CoordinatorDb]]:
    with fresh_database(str(request.param), tmp_path) as url:
        s = seed_coordinator(url)
        db = CoordinatorDb(url)
        yield s, db
        db.close()


def test_federation_lists_parties_with_datasets_and_online_state(
    seeded: tuple[Seeded, CoordinatorDb],
) -> None:
    _, db = seeded
    parties = federation(db, now=time.time(), silence_s=60)
    assert [p.name for p in parties] == ["clinic-a", "clinic-b", "hospital", "lab"]
    hospital = parties[2]
    assert hospital.online and hospital.datasets[0].rows == 569
    assert hospital.datasets[0].columns == ("patient_id", "diagnosis", "age")
    later = federation(db, now=time.time() + 3600, silence_s=60)
    assert not any(p.online for p in later)
    live = federation(db, now=time.time(), connected={"lab"})
    assert [p.name for p in live if p.online] == ["lab"]


def test_jobs_page_filters_paginates_and_says_who_approved(
    seeded: tuple[Seeded, CoordinatorDb],
) -> None:
    s, db = seeded
    page = jobs_page(db, time.time(), JobFilter(), 0, 2)
    assert page.total == 4 and len(page.items) == 2 and page.has_next
    rest = jobs_page(db, time.time(), JobFilter(), 2, 2)
    assert {j.id for j in page.items + rest.items} == set(s.jobs)
    pending = jobs_page(db, time.time(), JobFilter(states=("pending",))).items
    assert [(j.id, j.approved, j.waiting_for) for j in pending] == [
        (s.pending, ("hospital",), ("lab",))
    ]
    running = jobs_page(db, time.time(), JobFilter(modes=("horizontal",))).items[0]
    assert running.phase == "train" and running.progress == 0.5
    assert jobs_page(db, time.time(), JobFilter(party="clinic-a")).total == 1
    assert jobs_page(db, time.time(), JobFilter(name_contains="%")).total == 0  # escaped


def test_job_page_queries_fold_the_events_like_the_coordinator(
    seeded: tuple[Seeded, CoordinatorDb],
) -> None:
    s, db = seeded
    job = job_overview(db, s.succeeded)
    assert job is not None and job.ended
    result = job_result(db, job)
    assert result["align"]["intersection_size"] == 512
    assert [h["epoch"] for h in result["history"]] == [0, 1, 2]
    assert result["metrics"]["validation"]["ks"] == 0.88
    assert result["privacy"]["epsilon"] == {"lab": 0.93}
    assert result["bytes"]["lab"] == {"sent": 3 * 97_000, "received": 3 * 48_500}
    per_phase = bytes_per_phase(db, s.succeeded)
    assert [(b.phase, b.party, b.sent) for b in per_phase] == [
        (phase, party, step)
        for phase in ("align", "train", "evaluate")
        for party, step in (("hospital", 41_000), ("lab", 97_000))
    ]
    spans = phase_timeline(db, s.succeeded)
    assert [p.phase for p in spans] == ["align", "train", "evaluate"]
    assert all(ok for p in spans for _, ok in p.outcomes)
    assert len(step_losses(db, s.succeeded)) == 12
    assert failure_line(db, job) is None
    assert job_overview(db, "nope") is None


def test_failure_line_names_the_failing_party_and_phase(
    seeded: tuple[Seeded, CoordinatorDb],
) -> None:
    s, db = seeded
    job = job_overview(db, s.failed)
    assert job is not None
    line = failure_line(db, job)
    assert line == "train failed at lab: Paillier key of 1024 bits is below min_key_bits = 2048"
    spans = phase_timeline(db, s.failed)
    assert dict(spans[1].outcomes) == {"hospital": None, "lab": False}


def test_logs_of_every_party_in_one_filtered_page(seeded: tuple[Seeded, CoordinatorDb]) -> None:
    s, db = seeded
    assert log_parties(db, s.succeeded) == ["coordinator", "hospital", "lab"]
    every = job_logs(db, s.succeeded)
    assert every.total == 9
    lab = job_logs(db, s.succeeded, parties=["lab"], contains="train")
    assert [line.text for line in lab.items] == ["train finished"]
    second = job_logs(db, s.succeeded, offset=7, limit=5)
    assert len(second.items) == 2 and not second.has_next


def test_the_coordinator_store_is_opened_read_only(
    seeded: tuple[Seeded, CoordinatorDb],
) -> None:
    _, db = seeded
    with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM jobs"))
    assert jobs_page(db, time.time()).total == 4


def test_jobs_page_reads_one_page_of_ten_thousand_jobs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed_coordinator(url)
    seed_many_jobs(url, 10_000)
    db = CoordinatorDb(url)
    page = jobs_page(db, time.time(), JobFilter(states=("succeeded",)), offset=9_950, limit=50)
    assert page.total == 10_001 and len(page.items) == 50 and page.pages == 201
    db.close()


def test_party_ledger_counts_each_message_once_and_sums_per_kind(tmp_path: Path) -> None:
    node = seed_party(tmp_path / "hospital")
    db = NodeDb(node.state_dir / "party.db")
    jobs = ledger_jobs(db)
    assert jobs.total == 2 and {j.job_id for j in jobs.items} == {node.job_id, "older-job-0001"}
    mine = next(j for j in jobs.items if j.job_id == node.job_id)
    assert mine.messages == 6 and mine.bytes == 3 * 32_000 + 3 * 9000 and mine.peers == ("lab",)
    lines = ledger_lines(db, node.job_id)
    assert [(x.kind, x.count, x.bytes) for x in lines] == [
        ("ecdh.Blinded", 3, 96_000),
        ("split_paillier.EncryptedActivations", 3, 27_000),
    ]
    assert lines[0].sealing == "x25519-chacha20poly1305"
    with pytest.raises(sqlite3.OperationalError), db.connect() as conn:
        conn.execute("DELETE FROM ledger")


def test_local_models_describe_without_numbers_from_the_data(tmp_path: Path) -> None:
    node = seed_party(tmp_path / "hospital")
    models = local_models(node.state_dir)
    assert models.total == 1
    model = models.items[0]
    assert model.job_id == node.job_id and model.features == 1
    assert model.description == {"role": "label_holder", "kind": "split_nn", "task": "binary"}


def test_outbound_says_what_each_role_sends_to_whom_under_which_protection() -> None:
    spec = parse_job(SPEC, "spec")
    lab = outbound(spec, "lab")
    kinds = {(o.phase, o.kind): o for o in lab}
    assert kinds[("align", "ecdh.Blinded")].to == ("hospital",)
    assert "Paillier" in kinds[("train", "split_paillier.EncryptedActivations")].protection
    plain = parse_job({**SPEC, "train": {"protection": "none"}}, "spec")
    assert any(
        o.kind == "split.Activations" and "plaintext" in o.protection
        for o in outbound(plain, "lab")
    )
    hospital = outbound(spec, "hospital")
    assert all(o.to == ("lab",) for o in hospital)
    assert not any("Gradient" in o.kind for o in hospital if o.phase == "evaluate")
    assert outbound(spec, "stranger") == []
