"""One job for its page: overview, phase timeline, folded result, loss steps, failure.

Everything is driven by what the store holds for any mode: the phases the job entered,
the events its programs reported (folded by the simulator's own `ResultCollector`, so the
page shows the same result as `vfl job status --json`), and each party's phase outcome.
A new mode's page appears with its events; nothing here names a mode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from coordinator.tables import EventRow, JobPartyRow, JobRow, PhaseRow, PhaseRunRow
from dashboard.queries.source import CoordinatorDb
from vfl.config.phase_plan import TERMINAL
from vfl.protocol import reports
from vfl.result import JobResult, ResultCollector
from vfl.runtime.events import Progress, StepReport

EVENT_CHUNK = 2000
"""Events read per query while folding (keyset on the event id)."""
MAX_STEP_POINTS = 2000
"""Most batch losses drawn; longer runs are thinned evenly."""


@dataclass(frozen=True)
class PartyBytes:
    party: str
    role: str
    approved: bool
    sent: int
    received: int


@dataclass(frozen=True)
class JobOverview:
    id: str
    name: str
    mode: str
    state: str
    submitted_by: str
    created_at: float
    updated_at: float
    error: str | None
    spec: dict[str, Any]
    parties: tuple[PartyBytes, ...]

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class PhaseSpan:
    """One phase as it ran: when, and how each party finished it (None: still running)."""

    phase: str
    started_at: float
    finished_at: float | None
    outcomes: tuple[tuple[str, bool | None], ...]
    progress: float | None


def job_overview(db: CoordinatorDb, job_id: str) -> JobOverview | None:
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(JobRow).where(JobRow.id == job_id)).first()
        if row is None:
            return None
        members = conn.execute(
            sa.select(
                JobPartyRow.party,
                JobPartyRow.role,
                JobPartyRow.approved,
                JobPartyRow.bytes_sent,
                JobPartyRow.bytes_received,
            )
            .where(JobPartyRow.job_id == job_id)
            .order_by(JobPartyRow.party)
        ).all()
    return JobOverview(
        id=row.id,
        name=row.name,
        mode=row.mode,
        state=row.state,
        submitted_by=row.submitted_by,
        created_at=float(row.created_at),
        updated_at=float(row.updated_at),
        error=row.error,
        spec=json.loads(row.spec_json),
        parties=tuple(
            PartyBytes(m.party, m.role, bool(m.approved), int(m.bytes_sent), int(m.bytes_received))
            for m in members
        ),
    )


def bytes_per_party(job: JobOverview) -> list[PartyBytes]:
    """What each party sent and received in the job (its ledger totals, as reported)."""
    return list(job.parties)


@dataclass(frozen=True)
class PhaseBytes:
    """What one party sent and received during one phase."""

    phase: str
    party: str
    sent: int
    received: int


def bytes_per_phase(db: CoordinatorDb, job_id: str) -> list[PhaseBytes]:
    """Each party's bytes per phase, in phase order: the difference between the totals it
    reported when it finished each phase (a store from before migration 0004 has none)."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                PhaseRunRow.phase,
                PhaseRunRow.party,
                PhaseRunRow.bytes_sent,
                PhaseRunRow.bytes_received,
            )
            .join(
                PhaseRow,
                sa.and_(PhaseRow.job_id == PhaseRunRow.job_id, PhaseRow.phase == PhaseRunRow.phase),
            )
            .where(PhaseRunRow.job_id == job_id, PhaseRunRow.bytes_sent.is_not(None))
            .order_by(PhaseRow.started_at, PhaseRunRow.party)
        ).all()
    before: dict[str, tuple[int, int]] = {}
    out = []
    for r in rows:
        sent, received = int(r.bytes_sent), int(r.bytes_received or 0)
        prev = before.get(r.party, (0, 0))
        out.append(PhaseBytes(r.phase, r.party, max(0, sent - prev[0]), max(0, received - prev[1])))
        before[r.party] = (sent, received)
    return out


def phase_timeline(db: CoordinatorDb, job_id: str) -> list[PhaseSpan]:
    with db.engine.connect() as conn:
        phases = conn.execute(
            sa.select(PhaseRow.phase, PhaseRow.started_at, PhaseRow.finished_at)
            .where(PhaseRow.job_id == job_id)
            .order_by(PhaseRow.started_at)
        ).all()
        runs = conn.execute(
            sa.select(PhaseRunRow.phase, PhaseRunRow.party, PhaseRunRow.ok).where(
                PhaseRunRow.job_id == job_id
            )
        ).all()
        parties = conn.scalars(
            sa.select(JobPartyRow.party)
            .where(JobPartyRow.job_id == job_id)
            .order_by(JobPartyRow.party)
        ).all()
        progress = _progress_by_phase(conn, job_id)
    outcome = {(r.phase, r.party): bool(r.ok) for r in runs}
    return [
        PhaseSpan(
            phase=p.phase,
            started_at=float(p.started_at),
            finished_at=None if p.finished_at is None else float(p.finished_at),
            outcomes=tuple((party, outcome.get((p.phase, party))) for party in parties),
            progress=1.0 if p.finished_at is not None else progress.get(p.phase),
        )
        for p in phases
    ]


def failure_line(db: CoordinatorDb, job: JobOverview) -> str | None:
    """The error in one line, with the failing party and phase when a party failed one:
    `train failed at lab: ...`. None unless the job failed or was cancelled."""
    if job.state not in TERMINAL or not (job.error or job.state == "failed"):
        return None
    with db.engine.connect() as conn:
        first = conn.execute(
            sa.select(PhaseRunRow.phase, PhaseRunRow.party, PhaseRunRow.error)
            .where(PhaseRunRow.job_id == job.id, sa.not_(PhaseRunRow.ok))
            .order_by(PhaseRunRow.finished_at)
            .limit(1)
        ).first()
    error = " ".join((job.error or "").split())
    if first is None:
        return f"{job.state}: {error}" if error else job.state
    detail = " ".join((first.error or error).split())
    return f"{first.phase} failed at {first.party}: {detail}"


def job_result(db: CoordinatorDb, job: JobOverview) -> dict[str, Any]:
    """The job's result from its events: align counts, per-epoch history, metrics and
    privacy, folded as the coordinator folds them; plus bytes and phase timings."""
    collector = ResultCollector(JobResult(job=job.name, job_id=job.id, mode=job.mode))
    with db.engine.connect() as conn:
        last = 0
        while True:
            rows = conn.execute(
                sa.select(EventRow.id, EventRow.party, EventRow.payload)
                .where(
                    EventRow.job_id == job.id,
                    EventRow.id > last,
                    sa.not_(EventRow.key.like("step/%")),
                    sa.not_(EventRow.key.like("progress/%")),
                )
                .order_by(EventRow.id)
                .limit(EVENT_CHUNK)
            ).all()
            for r in rows:
                collector.report(r.party, reports.from_json(r.payload))
            if len(rows) < EVENT_CHUNK:
                break
            last = rows[-1].id
    out = collector.result.to_dict()
    out["bytes"] = {p.party: {"sent": p.sent, "received": p.received} for p in job.parties}
    out["status"] = job.state
    if job.error:
        out["error"] = job.error
    return out


def step_losses(db: CoordinatorDb, job_id: str) -> list[tuple[str, int, int, float]]:
    """(party, epoch, batch, loss) of every reported batch, thinned to MAX_STEP_POINTS."""
    with db.engine.connect() as conn:
        total = conn.scalar(
            sa.select(sa.func.count())
            .select_from(EventRow)
            .where(EventRow.job_id == job_id, EventRow.key.like("step/%"))
        )
        every = max(1, -(-int(total or 0) // MAX_STEP_POINTS))
        rows = conn.execute(
            sa.select(EventRow.id, EventRow.party, EventRow.payload)
            .where(EventRow.job_id == job_id, EventRow.key.like("step/%"))
            .order_by(EventRow.id)
        )
        out = []
        for i, r in enumerate(rows):
            if i % every:
                continue
            event = reports.from_json(r.payload)
            if isinstance(event, StepReport):
                out.append((str(r.party), event.epoch, event.batch, event.loss))
    return out


def _progress_by_phase(conn: sa.Connection, job_id: str) -> dict[str, float]:
    payloads = conn.scalars(
        sa.select(EventRow.payload)
        .where(EventRow.job_id == job_id, EventRow.key.like("progress/%"))
        .order_by(EventRow.id.desc())
        .limit(256)
    ).all()
    out: dict[str, float] = {}
    for payload in payloads:
        event = reports.from_json(payload)
        if isinstance(event, Progress) and event.total > 0:
            out[event.phase] = max(out.get(event.phase, 0.0), min(1.0, event.done / event.total))
    return out
