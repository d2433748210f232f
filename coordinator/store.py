"""The coordinator's record of parties, datasets, jobs, phases, events and logs: the
interface and the plain values it returns.

Two implementations keep one contract (tests/integration/test_store_contract.py runs the
same tests on both): `SqlStore` (coordinator/sql_store.py, SQLite or PostgreSQL, what the
coordinator runs) and `MemoryStore` (coordinator/memory_store.py, for tests and
experiments that need no database). Every method is one transaction and returns plain
values, so callers (servicer, admin API, dashboard queries) never hold ORM objects across
threads. Reports are idempotent: a party that resends after a reconnect, or a program
resumed from a checkpoint, replaces its earlier copy instead of adding a second one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset a party registered: its name, columns and row count, never its rows."""

    name: str
    columns: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class JobParty:
    """One party of a job: its role, whether it approved, what it sent and received."""

    name: str
    role: str
    approved: bool
    bytes_sent: int
    bytes_received: int
    model_path: str | None


@dataclass(frozen=True)
class Job:
    """A job as stored: its spec JSON, its state (a `JobState` value) and its parties."""

    id: str
    name: str
    mode: str
    spec_json: str
    submitted_by: str
    state: str
    error: str | None
    created_at: float
    parties: tuple[JobParty, ...]

    def party(self, name: str) -> JobParty | None:
        return next((p for p in self.parties if p.name == name), None)


@dataclass(frozen=True)
class PhaseTiming:
    """When a phase of a job started and, once every party finished it, ended."""

    phase: str
    started_at: float
    finished_at: float | None


class Store(ABC):
    """What the coordinator keeps. Methods return copies; nothing is shared across calls."""

    # -- parties -----------------------------------------------------------------------
    @abstractmethod
    def register_party(
        self, name: str, datasets: Sequence[DatasetInfo], sealing_key: bytes | None = None
    ) -> None:
        """Add or refresh a party; its datasets replace the ones it registered before."""

    @abstractmethod
    def touch_party(self, name: str) -> None:
        """Record that the party was seen now."""

    @abstractmethod
    def parties(self) -> list[tuple[str, float, list[DatasetInfo]]]:
        """(name, last seen, datasets by name) of every party, by name."""

    @abstractmethod
    def parties_named(self, names: Sequence[str]) -> set[str]:
        """Which of `names` are registered."""

    @abstractmethod
    def sealing_keys(self, names: Sequence[str]) -> dict[str, bytes]:
        """The key statements the named parties published (opaque bytes, forwarded as-is)."""

    @abstractmethod
    def datasets(self, party: str) -> dict[str, DatasetInfo]:
        """The party's datasets by name."""

    # -- jobs --------------------------------------------------------------------------
    @abstractmethod
    def create_job(self, job: Job) -> None:
        """Store a new job; its parties start unapproved with no bytes counted."""

    @abstractmethod
    def job(self, job_id: str) -> Job | None:
        """The job, its parties sorted by name; None if there is none."""

    @abstractmethod
    def job_state(self, job_id: str) -> str | None:
        """Just the state: the relay asks for every envelope."""

    @abstractmethod
    def jobs(self, limit: int = 100, party: str | None = None) -> list[Job]:
        """The newest jobs first, at most `limit`; with `party`, only the jobs it is in."""

    @abstractmethod
    def set_state(self, job_id: str, state: str, error: str | None = None) -> None:
        """Move the job to `state`; an `error` replaces the stored one, None keeps it."""

    @abstractmethod
    def approve(self, job_id: str, party: str) -> None:
        """Record the party's approval of the job."""

    # -- phases ------------------------------------------------------------------------
    @abstractmethod
    def start_phase(self, job_id: str, phase: str) -> None:
        """Record that the phase started (once: a second start keeps the first time)."""

    @abstractmethod
    def finish_phase(self, job_id: str, phase: str) -> None:
        """Record that every party finished the phase."""

    @abstractmethod
    def phase_timings(self, job_id: str) -> list[PhaseTiming]:
        """The job's phases in the order they started."""

    @abstractmethod
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
        """One party's outcome of a phase (the first one counts; a resend is no error) and
        its byte totals and model path (an empty path keeps the stored one)."""

    @abstractmethod
    def phases_done(self, job_id: str, party: str | None = None) -> dict[str, set[str]]:
        """{phase: parties that finished it successfully}, optionally for one party."""

    @abstractmethod
    def failed_phase(self, job_id: str) -> tuple[str, float] | None:
        """The phase a failed job was in when a party failed it, and when; None if no
        party's phase failed (the job was declined before any phase started)."""

    @abstractmethod
    def reopen(self, job_id: str, phase: str) -> None:
        """A failed job is live again in `phase`: its failed runs of it are forgotten (the
        parties run it again) and its error is cleared; successful runs stay."""

    # -- events and logs ---------------------------------------------------------------
    @abstractmethod
    def put_event(self, job_id: str, party: str, key: str, payload: str) -> bool:
        """Store one event; True if it is new, False if it replaced its earlier copy."""

    @abstractmethod
    def events(self, job_id: str) -> list[tuple[str, str]]:
        """(party, payload JSON) in the order first reported."""

    @abstractmethod
    def log(self, job_id: str, party: str, text: str) -> None:
        """Append a line to the job's log."""

    @abstractmethod
    def logs(self, job_id: str) -> list[tuple[float, str, str]]:
        """(time, party, text) of the job's log, oldest first."""
