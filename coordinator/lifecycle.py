"""The job state machine: pending → approved → the phases of the job's mode (vertical:
align → train → evaluate, see vfl/config/phase_plan.py) → succeeded, or failed / cancelled
from any live state; a failed job may be resumed into the phase it failed in (every party
restarts that phase from its last checkpoint) within the coordinator's [retention]
resume_window_s.

Every transition is written to the store before anyone is told, so a coordinator restarted
after kill -9 reads where each job was (`recover`) and tells parties again when they
reconnect. A party's failure fails the job with the party's name and its one-line reason.
A job whose plan has hosted roles (horizontal: the aggregator) also waits in each phase for
the coordinator's own program (`hosted_done`, participant `coordinator`), which fails the
job the same way.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

from coordinator.coordinator_metrics import CoordinatorMetrics
from coordinator.errors import AccessDeniedError, NotFoundError, StateError
from coordinator.mailbox import Mailbox
from coordinator.store import Job, JobParty, Store
from vfl.config.job_spec import JobSpec
from vfl.config.loading import parse_job, parse_toml
from vfl.config.phase_plan import COORDINATOR, TERMINAL, JobState, job_plan
from vfl.errors import ConfigError
from vfl.observability.labels import ErrorKind


class JobLifecycle:
    def __init__(
        self,
        store: Store,
        mailbox: Mailbox,
        notify: Callable[[str], None],
        resume_window_s: float = 86_400.0,
        metrics: CoordinatorMetrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics or CoordinatorMetrics()
        self.mailbox = mailbox
        self.resume_window_s = resume_window_s
        self._notify = notify  # job_id -> tell its connected parties
        self._lock = threading.RLock()

    def transitions(self) -> threading.RLock:
        """Held by every transition: hold it to act on a job that cannot end meanwhile
        (a report is admitted against the job's state and stored under it)."""
        return self._lock

    # -- requests ----------------------------------------------------------------------
    def submit(self, spec_toml: str, submitter: str, is_operator: bool) -> Job:
        raw = parse_toml(spec_toml, "job spec")  # bounded: size, then depth
        # membership before validation: a party may make us validate only its own jobs
        if not is_operator and submitter not in _party_names(raw):
            raise AccessDeniedError(
                f"party {submitter} may submit only jobs it takes part in; "
                "list it under [[parties]]"
            )
        spec = parse_job(raw, source="job spec")
        self._check_datasets(spec)
        job = Job(
            id=f"{spec.job.name}-{secrets.token_hex(4)}",
            name=spec.job.name,
            mode=spec.job.mode,
            spec_json=spec.model_dump_json(),
            submitted_by=submitter,
            state=JobState.PENDING,
            error=None,
            created_at=0.0,
            parties=tuple(JobParty(p.name, p.role, False, 0, 0, None) for p in spec.parties),
        )
        self.store.create_job(job)
        self.store.log(job.id, submitter, f"submitted by {submitter}")
        self._notify(job.id)
        return self.require(job.id)

    def approve(self, job_id: str, party: str) -> Job:
        with self._lock:
            job = self.require(job_id)
            if job.party(party) is None:
                raise AccessDeniedError(f"party {party} is not part of job {job_id}")
            if job.state != JobState.PENDING:
                raise StateError(f"job {job_id} is {job.state}; only pending jobs need approval")
            self.store.approve(job_id, party)
            self.store.log(job_id, party, f"approved by {party}")
            self._maybe_start(job_id)
        self._notify(job_id)
        return self.require(job_id)

    def decline(self, job_id: str, party: str, reason: str) -> Job:
        """`party` refuses a pending job (e.g. outside its [policy]): the job fails, named
        after the party and its one-line reason, before any phase starts."""
        line = _one_line(reason) or "no reason given"
        with self._lock:
            job = self.require(job_id)
            if job.party(party) is None:
                raise AccessDeniedError(f"party {party} is not part of job {job_id}")
            if job.state != JobState.PENDING:
                raise StateError(f"job {job_id} is {job.state}; only pending jobs can be declined")
            self.store.log(job_id, party, f"declined: {line}")
            self.store.set_state(job_id, JobState.FAILED, f"party {party} declined: {line}")
            self.mailbox.drop_job(job_id)
        self._notify(job_id)
        return self.require(job_id)

    def cancel(self, job_id: str, who: str) -> Job:
        with self._lock:
            job = self.require(job_id)
            if job.state in TERMINAL:
                raise StateError(f"job {job_id} already {job.state}")
            self.store.set_state(job_id, JobState.CANCELLED, f"cancelled by {who}")
            self.store.log(job_id, who, f"cancelled by {who}")
            self.mailbox.drop_job(job_id)
        self._notify(job_id)
        return self.require(job_id)

    def resume(self, job_id: str, who: str) -> Job:
        """Run a failed job's failed phase again, once whoever broke it fixed it (a full
        disk, a lost file): each party restarts the phase from its last checkpoint and
        re-sends what it had sent under the same sequence numbers (replay determinism),
        while the journals the parties kept hand back what their peers already sent."""
        with self._lock:
            job = self.require(job_id)
            if job.state != JobState.FAILED:
                raise StateError(f"job {job_id} is {job.state}; only a failed job can resume")
            failed = self.store.failed_phase(job_id)
            if failed is None:
                raise StateError(f"job {job_id} failed before any phase ran; submit it again")
            phase, at = failed
            if time.time() - at > self.resume_window_s:
                raise StateError(
                    f"job {job_id} failed more than {self.resume_window_s:.0f} s ago "
                    "([retention] resume_window_s); its parties have purged it, submit it again"
                )
            self.store.reopen(job_id, phase)
            self.store.log(job_id, who, f"resumed by {who}: {phase} runs again")
        self._notify(job_id)
        return self.require(job_id)

    def phase_done(
        self,
        job_id: str,
        phase: str,
        party: str,
        ok: bool,
        error: str,
        sent: int,
        received: int,
        model_path: str,
    ) -> None:
        """A party's outcome of `phase`."""
        if self.require(job_id).party(party) is None:
            raise AccessDeniedError(f"party {party} is not part of job {job_id}")
        self._phase_result(job_id, phase, party, ok, error, sent, received, model_path)

    def hosted_done(
        self,
        job_id: str,
        phase: str,
        ok: bool,
        error: str,
        sent: int = 0,
        received: int = 0,
        model_path: str = "",
    ) -> None:
        """The outcome of the program the coordinator hosts in `phase` (coordinator/hosted.py)."""
        job = self.require(job_id)
        if not job_plan(job.mode, job.spec_json).hosted:
            raise StateError(f"job {job_id}: the coordinator hosts no program in it")
        self._phase_result(job_id, phase, COORDINATOR, ok, error, sent, received, model_path)

    def _phase_result(
        self,
        job_id: str,
        phase: str,
        party: str,
        ok: bool,
        error: str,
        sent: int,
        received: int,
        model_path: str,
    ) -> None:
        with self._lock:
            job = self.require(job_id)
            if job.state in TERMINAL or not job_plan(job.mode, job.spec_json).runs(phase):
                return  # late news of an aborted or finished job
            reason = _one_line(error) or "unknown error"
            self.store.record_phase_run(
                job_id, phase, party, ok, None if ok else reason, sent, received, model_path
            )
            if not ok:
                if job.state != phase:
                    return
                who = party if party == COORDINATOR else f"party {party}"
                self.store.log(job_id, party, f"{phase} failed: {reason}")
                self.store.set_state(job_id, JobState.FAILED, f"{who} failed {phase}: {reason}")
                self.mailbox.drop_job(job_id)
                self.metrics.error(ErrorKind.PHASE_FAILED)
            else:
                self.store.log(job_id, party, f"{phase} done")
                self._maybe_advance(job_id)
        self._notify(job_id)

    def sweep(self) -> int:
        """Drop relayed bodies of ended jobs that a crash left behind; how many."""
        return self.mailbox.drop_ended(TERMINAL)

    def recover(self) -> None:
        """After a restart: finish transitions a crash interrupted."""
        self.sweep()
        for job in self.store.jobs(limit=10_000):
            if job.state == JobState.APPROVED or (
                job.state == JobState.PENDING and _all_approved(job)
            ):
                self._maybe_start(job.id)
            elif job_plan(job.mode, job.spec_json).runs(job.state):
                self._maybe_advance(job.id)

    def require(self, job_id: str) -> Job:
        job = self.store.job(job_id)
        if job is None:
            raise NotFoundError(f"job {job_id!r} not found; `vfl job list` shows the jobs")
        return job

    # -- transitions -------------------------------------------------------------------
    def _maybe_start(self, job_id: str) -> None:
        job = self.require(job_id)
        if not _all_approved(job):
            return
        if job.state == JobState.PENDING:
            self.store.set_state(job_id, JobState.APPROVED)
            self.store.log(job_id, "coordinator", "approved by every party")
        self._enter(job_id, job_plan(job.mode, job.spec_json).first)

    def _maybe_advance(self, job_id: str) -> None:
        job = self.require(job_id)
        plan = job_plan(job.mode, job.spec_json)
        if not plan.runs(job.state):
            return
        done = self.store.phases_done(job_id).get(job.state, set())
        # every party, and the coordinator when it hosts a program (the aggregator)
        needed = {p.name for p in job.parties} | ({COORDINATOR} if plan.hosted else set())
        if done < needed:
            return
        self.store.finish_phase(job_id, job.state)
        self._observe_phase(job_id, job.state)
        following = plan.after(job.state)
        if following is not None:
            self._enter(job_id, following)
        else:
            self.store.set_state(job_id, JobState.SUCCEEDED)
            self.store.log(job_id, "coordinator", "succeeded")
            self.mailbox.drop_job(job_id)

    def _enter(self, job_id: str, phase: str) -> None:
        self.store.start_phase(job_id, phase)
        self.store.set_state(job_id, phase)
        self.store.log(job_id, "coordinator", f"{phase} started")

    def _observe_phase(self, job_id: str, phase: str) -> None:
        """The finished phase's duration, as the store timed it (survives a restart)."""
        for timing in self.store.phase_timings(job_id):
            if timing.phase == phase and timing.finished_at is not None:
                self.metrics.phase_finished(phase, timing.finished_at - timing.started_at)
                return

    def _check_datasets(self, spec: JobSpec) -> None:
        for p in spec.parties:
            datasets = self.store.datasets(p.name)
            if not datasets and not self.store.parties_named([p.name]):
                raise ConfigError(
                    f"job spec: party {p.name!r} is not registered; start its node "
                    "(`vfl party serve`) first"
                )
            if p.data not in datasets:
                raise ConfigError(
                    f"job spec: party {p.name!r} has no dataset {p.data!r} (registered: "
                    f"{', '.join(sorted(datasets)) or 'none'})"
                )
            columns = set(datasets[p.data].columns)
            wanted = [c for c in (p.id_column, p.label_column) if c]  # horizontal: no ID
            missing = [c for c in [*wanted, *(p.features or [])] if c not in columns]
            if missing:
                raise ConfigError(
                    f"job spec: dataset {p.data!r} of party {p.name!r} has no column {missing[0]!r}"
                )


def _all_approved(job: Job) -> bool:
    return all(p.approved for p in job.parties)


def _one_line(text: str) -> str:
    """What a party says about its failure, as stored and shown: one line, bounded."""
    return text.splitlines()[0][:500] if text else ""


def _party_names(raw: dict[str, object]) -> set[str]:
    """The party names of an unvalidated spec (none if `parties` is not a list of tables)."""
    parties = raw.get("parties")
    if not isinstance(parties, list):
        return set()
    return {str(p.get("name")) for p in parties if isinstance(p, dict)}
