"""Every schema version, with data in it, upgraded to head: for each Alembic revision V,
a fresh database is brought to V, filled with a job in flight (parties, a dataset, a job
and its parties, phases, phase runs, an event, a log line, an envelope), upgraded to head,
and then every row must still be there, column for column, and the head store must use
it: list and read the job, deliver and confirm the envelope, finish the phase. On SQLite
always, on PostgreSQL when VFL_TEST_POSTGRES_URL is set (a database of its own per test,
dropped after)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from coordinator.database import MIGRATIONS, Database
from coordinator.mailbox import Mailbox, MailboxLimits, PutResult
from coordinator.sql_store import SqlStore
from tests.integration.conftest import fresh_database


def _revisions() -> list[str]:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return [s.revision for s in reversed(list(ScriptDirectory.from_config(cfg).walk_revisions()))]


REVISIONS = _revisions()
JOB = "job-1"
SEALING_KEY = b"\x00signed statement\xff"
BODY = b"\x00sealed body\xff" * 3

ROWS: dict[str, list[dict[str, Any]]] = {
    "parties": [
        {"name": "hospital", "first_seen": 1.5, "last_seen": 2.5, "sealing_key": SEALING_KEY},
        {"name": "lab", "first_seen": 1.25, "last_seen": 2.25, "sealing_key": None},
    ],
    "datasets": [
        {
            "party": "hospital",
            "name": "data",
            "columns_json": '["age", "size"]',
            "rows": 569,
            "updated_at": 3.5,
        },
    ],
    "jobs": [
        {
            "id": JOB,
            "name": "breast",
            "mode": "vertical",
            "spec_json": '{"job": {"seed": 7}}',
            "submitted_by": "operator",
            "state": "train",
            "error": None,
            "created_at": 4.5,
            "updated_at": 5.5,
        },
    ],
    "job_parties": [
        {
            "job_id": JOB,
            "party": "hospital",
            "role": "label_holder",
            "approved": True,
            "bytes_sent": 10,
            "bytes_received": 20,
            "model_path": None,
        },
        {
            "job_id": JOB,
            "party": "lab",
            "role": "feature_holder",
            "approved": False,
            "bytes_sent": 30,
            "bytes_received": 40,
            "model_path": "/models/lab",
        },
    ],
    "phases": [
        {"job_id": JOB, "phase": "align", "started_at": 6.5, "finished_at": 7.5},
        {"job_id": JOB, "phase": "train", "started_at": 8.5, "finished_at": None},
    ],
    "phase_runs": [
        {
            "job_id": JOB,
            "phase": "align",
            "party": party,
            "ok": True,
            "error": None,
            "finished_at": 7.25,
            "bytes_sent": 100,
            "bytes_received": 200,
        }
        for party in ("hospital", "lab")
    ],
    "events": [
        {
            "id": 1,
            "job_id": JOB,
            "party": "hospital",
            "key": "epoch/0",
            "payload": '{"loss": 0.5}',
            "created_at": 9.5,
        },
    ],
    "logs": [{"id": 1, "job_id": JOB, "party": "lab", "text": "align done", "at": 9.75}],
    "envelopes": [
        {
            "id": 1,
            "job_id": JOB,
            "src": "hospital",
            "dst": "lab",
            "kind": "split.Gradients",
            "seq": "train/epoch=0#3",
            "size": len(BODY),
            "data": BODY,
            "created_at": 10.5,
        },
    ],
}


def _fill(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Insert ROWS as far as this version has the tables and columns for them; what was
    inserted is what each table must still hold at head."""
    inspector = sa.inspect(db.engine)
    expected: dict[str, list[dict[str, Any]]] = {}
    with db.engine.begin() as conn:
        for table, rows in ROWS.items():
            if not inspector.has_table(table):  # a table a later revision adds
                continue
            columns = {c["name"] for c in inspector.get_columns(table)}
            kept = [{k: v for k, v in row.items() if k in columns} for row in rows]
            conn.execute(sa.Table(table, sa.MetaData(), autoload_with=conn).insert(), kept)
            expected[table] = kept
    return expected


def _read(db: Database, table: str, columns: list[str]) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
        rows = conn.execute(sa.select(*(reflected.c[c] for c in columns)))
        return [
            {c: bytes(v) if isinstance(v, memoryview) else v for c, v in row._mapping.items()}
            for row in rows
        ]


@pytest.mark.parametrize("revision", REVISIONS)
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_filled_database_at_every_version_upgrades_to_head(
    kind: str, revision: str, tmp_path: Path
) -> None:
    with fresh_database(kind, tmp_path) as url:
        db = Database(url)
        try:
            db.migrate(revision)
            expected = _fill(db)
            db.migrate()  # to head, as a coordinator does when it starts
            for table, rows in expected.items():
                want = sorted(rows, key=lambda r: [str(r[k]) for k in sorted(r)])
                got = _read(db, table, list(rows[0]))
                assert sorted(got, key=lambda r: [str(r[k]) for k in sorted(r)]) == want, table
            _head_store_uses_it(db, sealing_key_kept=expected["parties"][0].get("sealing_key"))
        finally:
            db.close()


def _head_store_uses_it(db: Database, sealing_key_kept: bytes | None) -> None:
    store = SqlStore(db)
    assert [j.id for j in store.jobs()] == [JOB]
    assert [j.id for j in store.jobs(party="lab")] == [JOB]
    job = store.job(JOB)
    assert job is not None and job.state == "train" and job.spec_json == '{"job": {"seed": 7}}'
    assert [(p.name, p.role, p.approved) for p in job.parties] == [
        ("hospital", "label_holder", True),
        ("lab", "feature_holder", False),
    ]
    assert store.phases_done(JOB) == {"align": {"hospital", "lab"}}
    assert [t.phase for t in store.phase_timings(JOB)] == ["align", "train"]
    assert store.datasets("hospital")["data"].rows == 569
    assert store.sealing_keys(["hospital", "lab"]) == (
        {"hospital": SEALING_KEY} if sealing_key_kept else {}
    )
    assert store.events(JOB) == [("hospital", '{"loss": 0.5}')]
    # the job goes on: approve, finish the phase, a new envelope gets a new id
    store.approve(JOB, "lab")
    store.record_phase_run(JOB, "train", "lab", True, None, 1, 2, "/models/lab2")
    store.finish_phase(JOB, "train")
    assert store.phases_done(JOB, "lab") == {"align": {"lab"}, "train": {"lab"}}
    box = Mailbox(db, MailboxLimits())
    [mail] = box.pending("lab", after_id=0)
    assert (mail.id, mail.job_id, mail.data, mail.kind) == (1, JOB, BODY, "split.Gradients")
    assert box.put(JOB, "hospital", "lab", "split.Gradients", "train/epoch=0#3", BODY) is (
        PutResult.DUPLICATE
    )
    assert box.confirm("lab", mail.id) is not None
    assert box.put(JOB, "hospital", "lab", "split.Gradients", "train/epoch=0#4", BODY) is (
        PutResult.STORED
    )
    [after] = box.pending("lab", after_id=0)
    assert after.id > mail.id  # ids are never reused: delivery resumes after the last one
