"""The coordinator's store in SQL: SQLite by default, PostgreSQL by URL (SQLAlchemy 2).

Every method is one transaction; see coordinator/store.py for the contract it keeps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import sqlalchemy as sa

from coordinator.database import Database
from coordinator.store import DatasetInfo, Job, JobParty, PhaseTiming, Store
from coordinator.tables import (
    DatasetRow,
    EventRow,
    JobPartyRow,
    JobRow,
    LogRow,
    PartyRow,
    PhaseRow,
    PhaseRunRow,
)


class SqlStore(Store):
    """The store the coordinator runs on."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- parties -----------------------------------------------------------------------
    def register_party(
        self, name: str, datasets: Sequence[DatasetInfo], sealing_key: bytes | None = None
    ) -> None:
        now = time.time()
        with self.db.session() as s:
            row = s.get(PartyRow, name)
            if row is None:
                s.add(PartyRow(name=name, first_seen=now, last_seen=now, sealing_key=sealing_key))
            else:
                row.last_seen = now
                row.sealing_key = sealing_key
            s.execute(sa.delete(DatasetRow).where(DatasetRow.party == name))
            for d in datasets:
                s.add(
                    DatasetRow(
                        party=name,
                        name=d.name,
                        columns_json=json.dumps(d.columns),
                        rows=d.rows,
                        updated_at=now,
                    )
                )

    def touch_party(self, name: str) -> None:
        with self.db.session() as s:
            s.execute(
                sa.update(PartyRow).where(PartyRow.name == name).values(last_seen=time.time())
            )

    def parties(self) -> list[tuple[str, float, list[DatasetInfo]]]:
        with self.db.session() as s:
            parties = s.scalars(sa.select(PartyRow).order_by(PartyRow.name)).all()
            datasets = s.scalars(sa.select(DatasetRow).order_by(DatasetRow.name)).all()
            return [
                (p.name, p.last_seen, [_dataset(d) for d in datasets if d.party == p.name])
                for p in parties
            ]

    def parties_named(self, names: Sequence[str]) -> set[str]:
        with self.db.session() as s:
            rows = s.scalars(sa.select(PartyRow.name).where(PartyRow.name.in_(list(names))))
            return set(rows.all())

    def sealing_keys(self, names: Sequence[str]) -> dict[str, bytes]:
        """The key statements the named parties published (opaque bytes, forwarded as-is)."""
        with self.db.session() as s:
            rows = s.execute(
                sa.select(PartyRow.name, PartyRow.sealing_key).where(
                    PartyRow.name.in_(list(names)), PartyRow.sealing_key.is_not(None)
                )
            ).all()
            return {r[0]: bytes(r[1]) for r in rows if r[1] is not None}

    def datasets(self, party: str) -> dict[str, DatasetInfo]:
        with self.db.session() as s:
            rows = s.scalars(sa.select(DatasetRow).where(DatasetRow.party == party)).all()
            return {d.name: _dataset(d) for d in rows}

    # -- jobs --------------------------------------------------------------------------
    def create_job(self, job: Job) -> None:
        now = time.time()
        with self.db.session() as s:
            s.add(
                JobRow(
                    id=job.id,
                    name=job.name,
                    mode=job.mode,
                    spec_json=job.spec_json,
                    submitted_by=job.submitted_by,
                    state=job.state,
                    error=None,
                    created_at=now,
                    updated_at=now,
                )
            )
            for p in job.parties:
                s.add(
                    JobPartyRow(
                        job_id=job.id,
                        party=p.name,
                        role=p.role,
                        approved=False,
                        bytes_sent=0,
                        bytes_received=0,
                    )
                )

    def job(self, job_id: str) -> Job | None:
        with self.db.session() as s:
            row = s.get(JobRow, job_id)
            return None if row is None else _job(row, _parties_of(s, [job_id])[job_id])

    def job_state(self, job_id: str) -> str | None:
        """Just the state: the relay asks for every envelope, so one indexed column."""
        with self.db.session() as s:
            state = s.scalar(sa.select(JobRow.state).where(JobRow.id == job_id))
            return None if state is None else str(state)

    def jobs(self, limit: int = 100, party: str | None = None) -> list[Job]:
        with self.db.session() as s:
            query = sa.select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
            if party is not None:
                mine = sa.select(JobPartyRow.job_id).where(JobPartyRow.party == party)
                query = query.where(JobRow.id.in_(mine))
            rows = s.scalars(query).all()
            parties = _parties_of(s, [r.id for r in rows])
            return [_job(r, parties[r.id]) for r in rows]

    def set_state(self, job_id: str, state: str, error: str | None = None) -> None:
        with self.db.session() as s:
            values: dict[str, object] = {"state": state, "updated_at": time.time()}
            if error is not None:
                values["error"] = error
            s.execute(sa.update(JobRow).where(JobRow.id == job_id).values(**values))

    def approve(self, job_id: str, party: str) -> None:
        with self.db.session() as s:
            s.execute(
                sa.update(JobPartyRow)
                .where(JobPartyRow.job_id == job_id, JobPartyRow.party == party)
                .values(approved=True)
            )

    # -- phases ------------------------------------------------------------------------
    def start_phase(self, job_id: str, phase: str) -> None:
        with self.db.session() as s:
            if s.get(PhaseRow, (job_id, phase)) is None:
                s.add(PhaseRow(job_id=job_id, phase=phase, started_at=time.time()))

    def finish_phase(self, job_id: str, phase: str) -> None:
        with self.db.session() as s:
            s.execute(
                sa.update(PhaseRow)
                .where(PhaseRow.job_id == job_id, PhaseRow.phase == phase)
                .values(finished_at=time.time())
            )

    def phase_timings(self, job_id: str) -> list[PhaseTiming]:
        with self.db.session() as s:
            rows = s.scalars(
                sa.select(PhaseRow).where(PhaseRow.job_id == job_id).order_by(PhaseRow.started_at)
            ).all()
            return [PhaseTiming(r.phase, r.started_at, r.finished_at) for r in rows]

    def record_phase_run(
        self,
        job_id: str,
        phase: str,
        party: str,
        ok: bool,
        error: str | None,
        sent: int,
        received: int,
        model_path: str | None,
    ) -> None:
        with self.db.session() as s:
            if s.get(PhaseRunRow, (job_id, phase, party)) is None:
                s.add(
                    PhaseRunRow(
                        job_id=job_id,
                        phase=phase,
                        party=party,
                        ok=ok,
                        error=error,
                        finished_at=time.time(),
                        bytes_sent=sent,
                        bytes_received=received,
                    )
                )
            values: dict[str, object] = {"bytes_sent": sent, "bytes_received": received}
            if model_path:
                values["model_path"] = model_path
            s.execute(
                sa.update(JobPartyRow)
                .where(JobPartyRow.job_id == job_id, JobPartyRow.party == party)
                .values(**values)
            )

    def phases_done(self, job_id: str, party: str | None = None) -> dict[str, set[str]]:
        """{phase: parties that finished it successfully}."""
        with self.db.session() as s:
            query = sa.select(PhaseRunRow).where(PhaseRunRow.job_id == job_id, PhaseRunRow.ok)
            if party is not None:
                query = query.where(PhaseRunRow.party == party)
            out: dict[str, set[str]] = {}
            for r in s.scalars(query).all():
                out.setdefault(r.phase, set()).add(r.party)
            return out

    def failed_phase(self, job_id: str) -> tuple[str, float] | None:
        with self.db.session() as s:
            row = s.execute(
                sa.select(PhaseRunRow.phase, sa.func.min(PhaseRunRow.finished_at))
                .join(
                    PhaseRow,
                    sa.and_(
                        PhaseRow.job_id == PhaseRunRow.job_id, PhaseRow.phase == PhaseRunRow.phase
                    ),
                )
                .where(
                    PhaseRunRow.job_id == job_id,
                    sa.not_(PhaseRunRow.ok),
                    PhaseRow.finished_at.is_(None),
                )
                .group_by(PhaseRunRow.phase)
            ).first()
            return None if row is None else (str(row[0]), float(row[1]))

    def reopen(self, job_id: str, phase: str) -> None:
        with self.db.session() as s:
            s.execute(
                sa.delete(PhaseRunRow).where(
                    PhaseRunRow.job_id == job_id,
                    PhaseRunRow.phase == phase,
                    sa.not_(PhaseRunRow.ok),
                )
            )
            s.execute(
                sa.update(JobRow)
                .where(JobRow.id == job_id)
                .values(state=phase, error=None, updated_at=time.time())
            )

    # -- events and logs ---------------------------------------------------------------
    def put_event(self, job_id: str, party: str, key: str, payload: str) -> bool:
        """Store one event; True if it is new, False if it replaced its earlier copy."""
        with self.db.session() as s:
            existing = s.scalars(
                sa.select(EventRow).where(EventRow.job_id == job_id, EventRow.key == key)
            ).first()
            if existing is None:
                s.add(
                    EventRow(
                        job_id=job_id, party=party, key=key, payload=payload, created_at=time.time()
                    )
                )
                return True
            existing.payload = payload
            return False

    def events(self, job_id: str) -> list[tuple[str, str]]:
        """(party, payload JSON) in the order first reported."""
        with self.db.session() as s:
            rows = s.execute(
                sa.select(EventRow.party, EventRow.payload)
                .where(EventRow.job_id == job_id)
                .order_by(EventRow.id)
            ).all()
            return [(r[0], r[1]) for r in rows]

    def log(self, job_id: str, party: str, text: str) -> None:
        with self.db.session() as s:
            s.add(LogRow(job_id=job_id, party=party, text=text, at=time.time()))

    def logs(self, job_id: str) -> list[tuple[float, str, str]]:
        with self.db.session() as s:
            rows = s.scalars(sa.select(LogRow).where(LogRow.job_id == job_id).order_by(LogRow.id))
            return [(r.at, r.party, r.text) for r in rows.all()]


def _dataset(row: DatasetRow) -> DatasetInfo:
    return DatasetInfo(row.name, tuple(json.loads(row.columns_json)), row.rows)


def _parties_of(s: sa.orm.Session, job_ids: list[str]) -> dict[str, list[JobParty]]:
    out: dict[str, list[JobParty]] = {j: [] for j in job_ids}
    if not job_ids:
        return out
    rows = s.scalars(sa.select(JobPartyRow).where(JobPartyRow.job_id.in_(job_ids))).all()
    for r in rows:
        out[r.job_id].append(
            JobParty(r.party, r.role, r.approved, r.bytes_sent, r.bytes_received, r.model_path)
        )
    return out


def _job(row: JobRow, parties: list[JobParty]) -> Job:
    return Job(
        row.id,
        row.name,
        row.mode,
        row.spec_json,
        row.submitted_by,
        row.state,
        row.error,
        row.created_at,
        tuple(sorted(parties, key=lambda p: p.name)),
    )
