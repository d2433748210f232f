"""The coordinator's store in memory: the twin of `SqlStore` for tests and experiments.

It keeps the same contract (tests/integration/test_store_contract.py runs one suite on
both), so code written against `Store` can be tested without a database. Nothing survives
the process; one lock makes every method one transaction, as the SQL store's are.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from coordinator.store import DatasetInfo, Job, JobParty, PhaseTiming, Store


@dataclass
class _Party:
    last_seen: float
    sealing_key: bytes | None
    datasets: dict[str, DatasetInfo]


@dataclass
class _Job:
    job: Job
    order: int
    """Creation order: the newest-first listing breaks ties of `created_at` by it."""
    parties: dict[str, JobParty]
    phases: dict[str, PhaseTiming] = field(default_factory=dict)
    runs: dict[tuple[str, str], tuple[bool, float]] = field(default_factory=dict)
    """(phase, party) → (ok, when), as first reported."""


class MemoryStore(Store):
    """Everything in dictionaries behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parties: dict[str, _Party] = {}
        self._jobs: dict[str, _Job] = {}
        self._events: dict[str, dict[str, tuple[str, str]]] = {}
        """job → key → (party, payload), in the order first reported."""
        self._logs: dict[str, list[tuple[float, str, str]]] = {}
        self._order = itertools.count()

    # -- parties -----------------------------------------------------------------------
    def register_party(
        self, name: str, datasets: Sequence[DatasetInfo], sealing_key: bytes | None = None
    ) -> None:
        with self._lock:
            self._parties[name] = _Party(time.time(), sealing_key, {d.name: d for d in datasets})

    def touch_party(self, name: str) -> None:
        with self._lock:
            if name in self._parties:
                self._parties[name].last_seen = time.time()

    def parties(self) -> list[tuple[str, float, list[DatasetInfo]]]:
        with self._lock:
            return [
                (name, p.last_seen, [p.datasets[d] for d in sorted(p.datasets)])
                for name, p in sorted(self._parties.items())
            ]

    def parties_named(self, names: Sequence[str]) -> set[str]:
        with self._lock:
            return {n for n in names if n in self._parties}

    def sealing_keys(self, names: Sequence[str]) -> dict[str, bytes]:
        with self._lock:
            found = {n: self._parties[n].sealing_key for n in names if n in self._parties}
            return {n: key for n, key in found.items() if key is not None}

    def datasets(self, party: str) -> dict[str, DatasetInfo]:
        with self._lock:
            p = self._parties.get(party)
            return {} if p is None else dict(p.datasets)

    # -- jobs --------------------------------------------------------------------------
    def create_job(self, job: Job) -> None:
        with self._lock:
            if job.id in self._jobs:
                raise ValueError(f"job {job.id!r} already exists")
            parties = {p.name: JobParty(p.name, p.role, False, 0, 0, None) for p in job.parties}
            stored = replace(job, error=None, created_at=time.time(), parties=())
            self._jobs[job.id] = _Job(stored, next(self._order), parties)

    def job(self, job_id: str) -> Job | None:
        with self._lock:
            found = self._jobs.get(job_id)
            return None if found is None else _view(found)

    def job_state(self, job_id: str) -> str | None:
        with self._lock:
            found = self._jobs.get(job_id)
            return None if found is None else found.job.state

    def jobs(self, limit: int = 100, party: str | None = None) -> list[Job]:
        with self._lock:
            chosen = [j for j in self._jobs.values() if party is None or party in j.parties]
            chosen.sort(key=lambda j: (j.job.created_at, j.order), reverse=True)
            return [_view(j) for j in chosen[:limit]]

    def set_state(self, job_id: str, state: str, error: str | None = None) -> None:
        with self._lock:
            found = self._jobs.get(job_id)
            if found is not None:
                kept = found.job.error if error is None else error
                found.job = replace(found.job, state=state, error=kept)

    def approve(self, job_id: str, party: str) -> None:
        with self._lock:
            found = self._jobs.get(job_id)
            if found is not None and party in found.parties:
                found.parties[party] = replace(found.parties[party], approved=True)

    # -- phases ------------------------------------------------------------------------
    def start_phase(self, job_id: str, phase: str) -> None:
        with self._lock:
            found = self._jobs.get(job_id)
            if found is not None and phase not in found.phases:
                found.phases[phase] = PhaseTiming(phase, time.time(), None)

    def finish_phase(self, job_id: str, phase: str) -> None:
        with self._lock:
            found = self._jobs.get(job_id)
            if found is not None and phase in found.phases:
                found.phases[phase] = replace(found.phases[phase], finished_at=time.time())

    def phase_timings(self, job_id: str) -> list[PhaseTiming]:
        with self._lock:
            found = self._jobs.get(job_id)
            timings = [] if found is None else list(found.phases.values())
            return sorted(timings, key=lambda t: t.started_at)

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
        with self._lock:
            found = self._jobs.get(job_id)
            if found is None:
                return
            found.runs.setdefault((phase, party), (ok, time.time()))
            member = found.parties.get(party)
            if member is not None:
                path = model_path or member.model_path
                found.parties[party] = replace(
                    member, bytes_sent=sent, bytes_received=received, model_path=path
                )

    def phases_done(self, job_id: str, party: str | None = None) -> dict[str, set[str]]:
        with self._lock:
            found = self._jobs.get(job_id)
            out: dict[str, set[str]] = {}
            for (phase, who), (ok, _) in ({} if found is None else found.runs).items():
                if ok and (party is None or who == party):
                    out.setdefault(phase, set()).add(who)
            return out

    def failed_phase(self, job_id: str) -> tuple[str, float] | None:
        with self._lock:
            found = self._jobs.get(job_id)
            if found is None:
                return None
            failures = [
                (at, phase)
                for (phase, _), (ok, at) in found.runs.items()
                if not ok and phase in found.phases and found.phases[phase].finished_at is None
            ]
            if not failures:
                return None
            at, phase = min(failures)
            return phase, at

    def reopen(self, job_id: str, phase: str) -> None:
        with self._lock:
            found = self._jobs.get(job_id)
            if found is None:
                return
            for key in [k for k, (ok, _) in found.runs.items() if k[0] == phase and not ok]:
                del found.runs[key]
            found.job = replace(found.job, state=phase, error=None)

    # -- events and logs ---------------------------------------------------------------
    def put_event(self, job_id: str, party: str, key: str, payload: str) -> bool:
        with self._lock:
            events = self._events.setdefault(job_id, {})
            new = key not in events
            # a resend replaces the payload and keeps its place and first reporter
            events[key] = (party if new else events[key][0], payload)
            return new

    def events(self, job_id: str) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._events.get(job_id, {}).values())

    def log(self, job_id: str, party: str, text: str) -> None:
        with self._lock:
            self._logs.setdefault(job_id, []).append((time.time(), party, text))

    def logs(self, job_id: str) -> list[tuple[float, str, str]]:
        with self._lock:
            return list(self._logs.get(job_id, []))


def _view(found: _Job) -> Job:
    return replace(found.job, parties=tuple(found.parties[n] for n in sorted(found.parties)))
