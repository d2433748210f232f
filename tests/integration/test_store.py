"""What only the SQL side has: migrations and the relay's mailbox, on SQLite (always) and
PostgreSQL (when configured). The store's behaviour is in test_store_contract.py."""

from __future__ import annotations

import sqlalchemy as sa

from coordinator.database import Database
from coordinator.mailbox import Mailbox, MailboxLimits, PutResult


def _open(url: str) -> Database:
    db = Database(url)
    db.migrate()
    return db


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
