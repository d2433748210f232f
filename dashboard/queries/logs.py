"""Every party's reported log lines for one job, in one filtered, paginated view.

The coordinator keeps what the lifecycle and each party reported about a job (approvals,
phase outcomes, errors with the failing party); FATE-Board shows each machine's logs
apart, this shows them together, filtered by party and text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from coordinator.tables import LogRow
from dashboard.queries.page import Page, bounded
from dashboard.queries.source import CoordinatorDb


@dataclass(frozen=True)
class LogLine:
    at: float
    party: str
    text: str


def job_logs(
    db: CoordinatorDb,
    job_id: str,
    parties: Sequence[str] = (),
    contains: str = "",
    offset: int = 0,
    limit: int = 100,
) -> Page[LogLine]:
    """Oldest first; `parties` empty means every party."""
    offset, limit = bounded(offset, limit)
    where: list[sa.ColumnElement[bool]] = [LogRow.job_id == job_id]
    if parties:
        where.append(LogRow.party.in_(list(parties)))
    if contains:
        where.append(LogRow.text.contains(contains, autoescape=True))
    with db.engine.connect() as conn:
        total = conn.scalar(sa.select(sa.func.count()).select_from(LogRow).where(*where)) or 0
        rows = conn.execute(
            sa.select(LogRow.at, LogRow.party, LogRow.text)
            .where(*where)
            .order_by(LogRow.id)
            .offset(offset)
            .limit(limit)
        ).all()
    items = tuple(LogLine(float(r.at), str(r.party), str(r.text)) for r in rows)
    return Page(items, offset, limit, int(total))


def log_parties(db: CoordinatorDb, job_id: str) -> list[str]:
    """Who reported log lines for the job (the coordinator included)."""
    with db.engine.connect() as conn:
        rows = conn.scalars(
            sa.select(LogRow.party).where(LogRow.job_id == job_id).distinct().order_by(LogRow.party)
        ).all()
    return [str(r) for r in rows]
