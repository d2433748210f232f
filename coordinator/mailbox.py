"""The relay's store-and-forward mailboxes, one per (job, addressed party), in SQL.

A body is kept from the moment the coordinator acknowledges it to its sender until the
addressed party confirms it stored it, then deleted (the SQLite file overwrites deleted
pages). Each mailbox is bounded by count and bytes: a full one answers "send again later",
which turns into back-pressure on the sender. Only `dst` can take or confirm its mail: the
servicer passes the certificate's identity, never a name from the request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa

from coordinator.database import Database
from coordinator.tables import EnvelopeRow


class PutResult(Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the same (job, src, dst, seq) is already in flight
    FULL = "full"


@dataclass(frozen=True)
class MailboxLimits:
    max_messages: int = 4096
    max_bytes: int = 1 << 30


@dataclass(frozen=True)
class Mail:
    id: int
    job_id: str
    data: bytes


class Mailbox:
    def __init__(self, db: Database, limits: MailboxLimits) -> None:
        self.db = db
        self.limits = limits

    def put(self, job_id: str, src: str, dst: str, kind: str, seq: str, data: bytes) -> PutResult:
        try:
            return self._put(job_id, src, dst, kind, seq, data)
        except sa.exc.IntegrityError:
            # uq_envelopes_route_seq: the same (job, src, dst, seq) is in flight. Letting the
            # constraint find it saves a query per envelope on the common, first-copy path.
            return PutResult.DUPLICATE

    def _put(self, job_id: str, src: str, dst: str, kind: str, seq: str, data: bytes) -> PutResult:
        with self.db.session() as s:
            count, size = s.execute(
                sa.select(
                    sa.func.count(EnvelopeRow.id),
                    sa.func.coalesce(sa.func.sum(EnvelopeRow.size), 0),
                ).where(EnvelopeRow.job_id == job_id, EnvelopeRow.dst == dst)
            ).one()
            if count and (
                count >= self.limits.max_messages or size + len(data) > self.limits.max_bytes
            ):
                return PutResult.FULL
            s.execute(
                sa.insert(EnvelopeRow).values(
                    job_id=job_id,
                    src=src,
                    dst=dst,
                    kind=kind,
                    seq=seq,
                    size=len(data),
                    data=data,
                    created_at=time.time(),
                )
            )
            return PutResult.STORED

    def pending(self, dst: str, after_id: int, limit: int = 16) -> list[Mail]:
        with self.db.session() as s:
            rows = s.execute(
                sa.select(EnvelopeRow.id, EnvelopeRow.job_id, EnvelopeRow.data)
                .where(EnvelopeRow.dst == dst, EnvelopeRow.id > after_id)
                .order_by(EnvelopeRow.id)
                .limit(limit)
            ).all()
            return [Mail(r[0], r[1], r[2]) for r in rows]

    def confirm(self, dst: str, mail_id: int) -> None:
        """`dst` stored mail `mail_id`: drop it. Another party's id matches nothing."""
        with self.db.session() as s:
            s.execute(
                sa.delete(EnvelopeRow).where(EnvelopeRow.id == mail_id, EnvelopeRow.dst == dst)
            )

    def drop_job(self, job_id: str) -> int:
        with self.db.session() as s:
            result = s.execute(sa.delete(EnvelopeRow).where(EnvelopeRow.job_id == job_id))
            return int(getattr(result, "rowcount", 0) or 0)

    def count(self, job_id: str | None = None) -> int:
        with self.db.session() as s:
            query = sa.select(sa.func.count(EnvelopeRow.id))
            if job_id is not None:
                query = query.where(EnvelopeRow.job_id == job_id)
            return int(s.scalar(query) or 0)
