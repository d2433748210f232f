"""The jobs list: filtered, newest first, one page at a time.

Pages with 10,000 jobs stay fast because each call reads one page of job rows (an indexed
ORDER BY ... LIMIT/OFFSET), a COUNT, and only that page's parties and progress.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from coordinator.tables import EventRow, JobPartyRow, JobRow
from dashboard.queries.page import Page, bounded
from dashboard.queries.source import CoordinatorDb
from vfl.config.phase_plan import TERMINAL, Phase
from vfl.protocol import reports
from vfl.runtime.events import Progress


@dataclass(frozen=True)
class JobFilter:
    """What the jobs table shows; None or empty means any."""

    states: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    name_contains: str = ""
    party: str | None = None


@dataclass(frozen=True)
class JobSummary:
    """One row of the jobs table."""

    id: str
    name: str
    mode: str
    state: str
    phase: str | None
    """The phase it runs now (None before approval and once ended)."""
    progress: float | None
    """0..1 through the current phase, from the furthest progress any party reported."""
    created_at: float
    duration_s: float
    """Running: since it was submitted; ended: submission to its last change."""
    approved: tuple[str, ...]
    waiting_for: tuple[str, ...]
    submitted_by: str


def _where(f: JobFilter) -> list[sa.ColumnElement[bool]]:
    out: list[sa.ColumnElement[bool]] = []
    if f.states:
        out.append(JobRow.state.in_(list(f.states)))
    if f.modes:
        out.append(JobRow.mode.in_(list(f.modes)))
    if f.name_contains:
        out.append(JobRow.name.contains(f.name_contains, autoescape=True))
    if f.party:
        mine = sa.select(JobPartyRow.job_id).where(JobPartyRow.party == f.party)
        out.append(JobRow.id.in_(mine))
    return out


def jobs_page(
    db: CoordinatorDb, now: float, f: JobFilter = JobFilter(), offset: int = 0, limit: int = 50
) -> Page[JobSummary]:
    offset, limit = bounded(offset, limit)
    where = _where(f)
    with db.engine.connect() as conn:
        total = conn.scalar(sa.select(sa.func.count()).select_from(JobRow).where(*where)) or 0
        rows = conn.execute(
            sa.select(
                JobRow.id,
                JobRow.name,
                JobRow.mode,
                JobRow.state,
                JobRow.created_at,
                JobRow.updated_at,
                JobRow.submitted_by,
            )
            .where(*where)
            .order_by(JobRow.created_at.desc(), JobRow.id)
            .offset(offset)
            .limit(limit)
        ).all()
        ids = [r.id for r in rows]
        members = conn.execute(
            sa.select(JobPartyRow.job_id, JobPartyRow.party, JobPartyRow.approved)
            .where(JobPartyRow.job_id.in_(ids))
            .order_by(JobPartyRow.party)
        ).all()
        running = [r.id for r in rows if _phase(r.state) is not None]
        progress = _progress(conn, {r.id: r.state for r in rows if r.id in running})
    approved: dict[str, list[str]] = {}
    waiting: dict[str, list[str]] = {}
    for job_id, party, ok in members:
        (approved if ok else waiting).setdefault(job_id, []).append(party)
    items = tuple(
        JobSummary(
            id=r.id,
            name=r.name,
            mode=r.mode,
            state=r.state,
            phase=_phase(r.state),
            progress=progress.get(r.id),
            created_at=float(r.created_at),
            duration_s=(float(r.updated_at) if r.state in TERMINAL else now) - float(r.created_at),
            approved=tuple(approved.get(r.id, ())),
            waiting_for=tuple(waiting.get(r.id, ())),
            submitted_by=r.submitted_by,
        )
        for r in rows
    )
    return Page(items, offset, limit, int(total))


def job_states(db: CoordinatorDb) -> dict[str, int]:
    """How many jobs are in each state (for the filter and the headline)."""
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(JobRow.state, sa.func.count()).group_by(JobRow.state)).all()
    return {str(s): int(n) for s, n in rows}


def _phase(state: str) -> str | None:
    return state if state in {p.value for p in Phase} else None


def _progress(conn: sa.Connection, phase_of: dict[str, str]) -> dict[str, float]:
    """Furthest progress of each running job's current phase, reading only its progress
    events (keys `progress/<party>/<phase>/<done>`)."""
    out: dict[str, float] = {}
    for job_id, phase in phase_of.items():
        payloads = conn.scalars(
            sa.select(EventRow.payload)
            .where(EventRow.job_id == job_id, EventRow.key.like(f"progress/%/{phase}/%"))
            .order_by(EventRow.id.desc())
            .limit(64)
        ).all()
        best = 0.0
        for payload in payloads:
            event = reports.from_json(payload)
            if isinstance(event, Progress) and event.total > 0:
                best = max(best, min(1.0, event.done / event.total))
        out[job_id] = best
    return out
