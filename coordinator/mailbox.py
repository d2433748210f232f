"""The relay's store-and-forward mailboxes, one per (job, addressed party), in SQL.

A body is kept from the moment the coordinator acknowledges it to its sender until the
addressed party confirms it stored it, then deleted (the SQLite file overwrites deleted
pages). What is held is bounded three ways, each by count and bytes: per mailbox (job,
addressed party), per job (all its mailboxes) and per sending party (all its jobs). A put
over any bound answers "send again later", which turns into back-pressure on the sender:
a member that floods one job, or many jobs, waits on its own quota while other parties'
mail keeps flowing. An empty scope takes one envelope of any size (up to the relay's
max_message_bytes), so the largest legal envelope always gets through. Only `dst` can
take or confirm its mail: the servicer passes the certificate's identity, never a name
from the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa

from coordinator.database import Database
from coordinator.held import HeldTally
from coordinator.tables import EnvelopeRow, JobRow


class PutResult(Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the same (job, src, dst, seq) is already in flight
    FULL = "full"


@dataclass(frozen=True)
class MailboxLimits:
    """What the relay holds at most, per mailbox, per job and per sending party."""

    max_messages: int = 4096
    max_bytes: int = 1 << 30
    job_messages: int = 8192
    job_bytes: int = 2 << 30
    sender_messages: int = 8192
    sender_bytes: int = 2 << 30


def _over(count: int, size: int, incoming: int, max_count: int, max_bytes: int) -> bool:
    """A scope that holds `count` envelopes of `size` bytes has no room for `incoming`."""
    return bool(count) and (count >= max_count or size + incoming > max_bytes)


@dataclass(frozen=True)
class Mail:
    id: int
    job_id: str
    data: bytes
    kind: str = ""  # the header's kind, for the relay's metrics (a family, never a label)


class Mailbox:
    """The relay's store-and-forward mailboxes (see the module docstring)."""

    def __init__(self, db: Database, limits: MailboxLimits) -> None:
        self.db = db
        self.limits = limits
        self._lock = threading.Lock()  # a quota check and its insert are one step
        self._held = HeldTally()
        self._reload()

    def _reload(self) -> None:
        row = EnvelopeRow
        with self._lock, self.db.session() as s:  # no put or confirm between read and set
            rows = s.execute(sa.select(row.job_id, row.src, row.dst, row.size)).all()
            self._held.reload((r[0], r[1], r[2], int(r[3])) for r in rows)

    def put(self, job_id: str, src: str, dst: str, kind: str, seq: str, data: bytes) -> PutResult:
        try:
            return self._put(job_id, src, dst, kind, seq, data)
        except sa.exc.IntegrityError:
            # uq_envelopes_route_seq: the same (job, src, dst, seq) is in flight. Letting the
            # constraint find it saves a query per envelope on the common, first-copy path.
            return PutResult.DUPLICATE

    def _put(self, job_id: str, src: str, dst: str, kind: str, seq: str, data: bytes) -> PutResult:
        limits, size = self.limits, len(data)
        box, job, sender = HeldTally.scopes(job_id, src, dst)
        with self._lock:
            if (
                _over(*self._held.held(box), size, limits.max_messages, limits.max_bytes)
                or _over(*self._held.held(job), size, limits.job_messages, limits.job_bytes)
                or _over(
                    *self._held.held(sender), size, limits.sender_messages, limits.sender_bytes
                )
            ):
                return PutResult.FULL
            with self.db.session() as s:
                s.execute(
                    sa.insert(EnvelopeRow).values(
                        job_id=job_id,
                        src=src,
                        dst=dst,
                        kind=kind,
                        seq=seq,
                        size=size,
                        data=data,
                        created_at=time.time(),
                    )
                )
            self._held.add(job_id, src, dst, size)
            return PutResult.STORED

    def pending(self, dst: str, after_id: int, limit: int = 16) -> list[Mail]:
        with self.db.session() as s:
            rows = s.execute(
                sa.select(EnvelopeRow.id, EnvelopeRow.job_id, EnvelopeRow.data, EnvelopeRow.kind)
                .where(EnvelopeRow.dst == dst, EnvelopeRow.id > after_id)
                .order_by(EnvelopeRow.id)
                .limit(limit)
            ).all()
            return [Mail(r[0], r[1], r[2], r[3]) for r in rows]

    def confirm(self, dst: str, mail_id: int) -> float | None:
        """`dst` stored mail `mail_id`: drop it, and return the seconds the relay held it
        (stored to confirmed: its delivery latency). Another party's id matches nothing
        (None), and neither does a second confirm of the same mail."""
        row = EnvelopeRow
        with self._lock, self.db.session() as s:
            gone = s.execute(
                sa.delete(row)
                .where(row.id == mail_id, row.dst == dst)
                .returning(row.job_id, row.src, row.size, row.created_at)
            ).first()
            if gone is None:
                return None
            self._held.add(gone[0], gone[1], dst, int(gone[2]), sign=-1)
        return max(time.time() - float(gone[3]), 0.0)

    def drop_job(self, job_id: str) -> int:
        with self.db.session() as s:
            result = s.execute(sa.delete(EnvelopeRow).where(EnvelopeRow.job_id == job_id))
            dropped = int(getattr(result, "rowcount", 0) or 0)
        self._reload()
        return dropped

    def drop_ended(self, states: Collection[str]) -> int:
        """Drop every envelope of a job in one of `states` (the ended ones): the sweep that
        keeps "an ended job's bodies are gone" true even if the coordinator died between
        ending a job and dropping its mail."""
        ended = sa.select(JobRow.id).where(JobRow.state.in_(sorted(states)))
        with self.db.session() as s:
            result = s.execute(sa.delete(EnvelopeRow).where(EnvelopeRow.job_id.in_(ended)))
            dropped = int(getattr(result, "rowcount", 0) or 0)
        if dropped:
            self._reload()
        return dropped

    def count(self, job_id: str | None = None) -> int:
        with self.db.session() as s:
            query = sa.select(sa.func.count(EnvelopeRow.id))
            if job_id is not None:
                query = query.where(EnvelopeRow.job_id == job_id)
            return int(s.scalar(query) or 0)
