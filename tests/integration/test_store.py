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
    assert box.confirm("a", pending[0].id) is None  # party a cannot drop b's mail
    assert len(box.pending("b", 0)) == 2
    held = box.confirm("b", pending[0].id)  # the seconds it was held: delivery latency
    assert held is not None and held >= 0
    assert box.confirm("b", pending[0].id) is None  # a second confirm observes nothing
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
    # the quotas are tallied in memory: a restarted coordinator reloads them from the table
    restarted = Mailbox(db, limits)
    assert restarted.put("j6", "m", "b", "k", "s#0", b"x") is PutResult.STORED  # m: 2 held
    assert restarted.put("j7", "m", "b", "k", "s#0", b"x") is PutResult.FULL  # m: 3 held
    assert restarted.put("j", "c", "b", "k", "s#1", b"x" * 200) is PutResult.FULL  # j: 1400
    assert restarted.drop_job("j") == 2
    assert restarted.put("j", "c", "b", "k", "s#1", b"x" * 200) is PutResult.STORED
    assert restarted.put("j7", "m", "b", "k", "s#0", b"x") is PutResult.STORED  # j's freed
    db.close()
