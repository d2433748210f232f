"""Programs the coordinator hosts: the horizontal aggregator runs here, as participant
`coordinator`, beside the relay.

The runner reacts to job changes as a party node does: when a job whose plan has a hosted
role is in a phase the coordinator has not finished, it starts that phase's hosted program
(`vfl/algorithms/hosted.py`) in a thread; when the job ends it aborts it. The program gets
what a party's program gets: a channel on the relay's mailbox (sealed like any pair, see
hosted_channel.py and hosted_sealing.py), a workspace and a durable ledger in the
coordinator's state folder, and a reporter that stores its events through the result book
(admitted by the report policy like a party's). Its outcome goes to the lifecycle as the
phase result of participant `coordinator`: a phase advances only once every party and the
coordinator finished it, and an error fails the job naming `coordinator`.

After a restart (kill -9 included) `start` runs again the hosted programs of live jobs;
they resume from their checkpoint (the aggregator checkpoints each round), re-send under
the same sequence numbers (the ledger refuses a different body) and are handed from the
journal what parties sent before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from coordinator.hosted_channel import BATCH, HostedChannel
from coordinator.hosted_sealing import hosted_sealing
from coordinator.lifecycle import JobLifecycle
from coordinator.mailbox import Mailbox
from coordinator.report_policy import admit
from coordinator.result_book import ResultBook
from coordinator.sessions import SessionRegistry
from coordinator.store import Job, Store
from vfl.algorithms.hosted import hosted_program
from vfl.config.coordinator_config import CoordinatorConfig
from vfl.config.loading import parse_job_json
from vfl.config.phase_plan import COORDINATOR, TERMINAL, JobState, phase_of, plan_for
from vfl.crypto.sealing import JobKeySealer, KeyStatement
from vfl.crypto.sealing.job_key_book import JobKeyBook
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.errors import JobAbortedError, VflError, failure_reason
from vfl.protocol import reports
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.runtime.context import party_context
from vfl.runtime.events import Event
from vfl.runtime.inbox import Inbox
from vfl.runtime.local_fault import describe_local_fault
from vfl.runtime.node_store import NodeStore
from vfl.runtime.workspace import Workspace, private_dir

log = logging.getLogger(__name__)


class HostedReporter:
    """Stores a hosted program's events as the relay stores a party's: admitted by the
    report policy (role aggregator) while the job is live, folded by the result book."""

    def __init__(self, store: Store, book: ResultBook, lifecycle: JobLifecycle, job_id: str):
        self._store, self._book, self._lifecycle, self._job_id = store, book, lifecycle, job_id

    def report(self, party: str, event: Event) -> None:
        with self._lifecycle.transitions():  # the job cannot end between admit and record
            job = self._store.job(self._job_id)
            if job is None:
                return
            try:
                admit(job, COORDINATOR, reports.kind_of(event))
            except VflError as exc:
                log.warning("job %s: hosted report refused: %s", self._job_id, exc)
                return
            self._book.record(job, COORDINATOR, event)


class HostedRunner:
    """Runs the hosted programs of every live job whose plan has a hosted role."""

    def __init__(
        self,
        config: CoordinatorConfig,
        store: Store,
        mailbox: Mailbox,
        sessions: SessionRegistry,
        book: ResultBook,
        lifecycle: JobLifecycle,
    ) -> None:
        self.root = private_dir(config.hosted_state_dir())
        private_dir(self.root / "jobs")
        self.state = NodeStore(self.root / "hosted.db")  # ledger, journal, nonce counters
        sealing = hosted_sealing(config, self.root, self.state)
        self.sealer = sealing.sealer
        self.statement = sealing.statement
        """The coordinator's key statement (serialized), forwarded with hosted jobs."""
        self.job_keys = JobKeyBook()
        """Every job's per-job key statements (parties' and, for hosted jobs, our own)."""
        self._own_keys: dict[str, bytes] = {}  # job -> our per-job statement, serialized
        self.inbox = Inbox(self.state, COORDINATOR)
        self.channel = HostedChannel(mailbox, sessions.wake, self.inbox, self.sealer)
        self.store, self.book, self.lifecycle = store, book, lifecycle
        self.resume_window_s = config.retention.resume_window_s
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], threading.Thread] = {}
        self._aborted: set[str] = set()  # jobs aborted here; a resume reopens them
        self._mail = threading.Event()
        self._stopped = threading.Event()
        self._delivery = threading.Thread(target=self._deliver, name="hosted-mail", daemon=True)

    def start(self) -> None:
        """Start taking mail, and every live job's hosted program (after a restart too)."""
        self._delivery.start()
        for job in self.store.jobs(limit=10_000):
            self.on_job(job)
        self.sweep()

    def stop(self) -> None:
        self._stopped.set()
        self._mail.set()
        with self._lock:
            running = list(self._running.items())
        for (job_id, _), _thread in running:
            self.inbox.abort(job_id, "the coordinator is stopping")
        for _, thread in running:
            thread.join(timeout=5.0)
        self._delivery.join(timeout=5.0)
        self.state.close()

    def wake(self) -> None:
        """Mail for `coordinator` was stored: move it into the hosted inbox now."""
        self._mail.set()

    # -- job changes -------------------------------------------------------------------
    def on_job(self, job: Job) -> None:
        """Called after every transition of `job` (and at start)."""
        if not plan_for(job.mode).hosted or self._stopped.is_set():
            return
        if job.state in TERMINAL:
            with self._lock:
                self._aborted.add(job.id)
            self.inbox.abort(job.id, f"job {job.state}")
            self._purge_if_idle(job.id)
            return
        phase = phase_of(job.state)
        if phase is None:
            return
        with self._lock:
            resumed = job.id in self._aborted
            self._aborted.discard(job.id)
        if resumed:  # `vfl job resume`: take the job's mail again, the journal is kept
            self.inbox.reopen(job.id)
        if COORDINATOR in self.store.phases_done(job.id, COORDINATOR).get(phase, set()):
            return
        with self._lock:
            if (job.id, phase) in self._running:
                return
            thread = threading.Thread(
                target=self._phase, args=(job.id, phase), name=f"hosted-{job.id}-{phase}"
            )
            thread.daemon = True
            self._running[(job.id, phase)] = thread
        thread.start()

    def job_keys_of(self, job: Job) -> dict[str, bytes]:
        """The per-job key statements a job update carries: the parties' as published and,
        once a hosted job is approved, the coordinator's own (made on first use)."""
        if job.state in TERMINAL:
            self.job_keys.drop(job.id)
            with self._lock:
                self._own_keys.pop(job.id, None)
            return {}
        keys = self.job_keys.get(job.id)
        hosted = plan_for(job.mode).hosted and job.state != JobState.PENDING
        if hosted and isinstance(self.sealer, JobKeySealer):
            with self._lock:
                own = self._own_keys.get(job.id)
            if own is None:
                s = self.sealer.job_statement(job.id, job_digest(job.spec_json))
                key = pb.SealingKey(
                    party=s.party,
                    public_key=s.public_key,
                    certificate=s.certificate,
                    signature=s.signature,
                )
                own = key.SerializeToString()
                with self._lock:
                    self._own_keys[job.id] = own
            keys[COORDINATOR] = own
        return keys

    def sweep(self) -> None:
        """Drop the journal and keys of ended jobs (a failed one's after the resume window)."""
        for job_id in self.state.journal_jobs():
            self._purge_if_idle(job_id)

    # -- one phase ---------------------------------------------------------------------
    def _phase(self, job_id: str, phase: str) -> None:
        try:
            outcome = self._execute(job_id, phase)
            if outcome is not None and not self._stopped.is_set():
                ok, error, model_path = outcome
                sent_received = self.state.totals(job_id)
                self.lifecycle.hosted_done(
                    job_id,
                    phase,
                    ok,
                    error,
                    sent_received["sent"],
                    sent_received["received"],
                    model_path,
                )
        except Exception:
            log.exception("job %s: could not record the hosted %s", job_id, phase)
        finally:
            with self._lock:
                self._running.pop((job_id, phase), None)
            self._purge_if_idle(job_id)

    def _execute(self, job_id: str, phase: str) -> tuple[bool, str, str] | None:
        """(ok, error, model path), or None if the job was aborted meanwhile."""
        job = self.lifecycle.require(job_id)
        workspace = Workspace(self.root / "jobs" / job_id)
        try:
            spec = parse_job_json(job.spec_json, source=f"job {job_id}: spec")
            role = spec.plan.hosted[0]
            program = hosted_program(spec, phase, role)
            if isinstance(self.sealer, JobKeySealer):
                parties = [p.name for p in spec.parties]
                found = self.job_keys.wait(job_id, parties, lambda: self._ended(job_id))
                if found is None:
                    raise JobAbortedError(f"job {job_id} ended before its per-job keys arrived")
                names = [*parties, COORDINATOR]
                self.sealer.admit(job_id, job_digest(job.spec_json), names, _statements(found))
            ctx = party_context(
                spec,
                COORDINATOR,
                job_id,
                phase,
                channel=self.channel,
                workspace=workspace,
                reporter=HostedReporter(self.store, self.book, self.lifecycle, job_id),
                ledger=self.state,
            )
            log.info("job %s: hosted %s (%s) started", job_id, role, phase)
            program.run(ctx)
        except JobAbortedError:
            log.info("job %s: hosted %s aborted", job_id, phase)
            return None
        except (sqlite3.Error, OSError) as exc:  # the coordinator's own disk
            reason = "the coordinator cannot write its hosted state: " + describe_local_fault(exc)
            return self._failed(job_id, phase, reason)
        except Exception as exc:
            if self.store.job_state(job_id) in TERMINAL:  # ended elsewhere: a consequence
                log.info("job %s: hosted %s stopped, the job ended (%s)", job_id, phase, exc)
                return None
            return self._failed(job_id, phase, failure_reason(exc))
        model = workspace.root / "model"
        log.info("job %s: hosted %s done", job_id, phase)
        return True, "", str(model.resolve()) if model.exists() else ""

    def _ended(self, job_id: str) -> bool:
        return self._stopped.is_set() or self.store.job_state(job_id) in TERMINAL

    def _failed(self, job_id: str, phase: str, reason: str) -> tuple[bool, str, str]:
        log.error("job %s: hosted %s failed: %s", job_id, phase, reason)
        return False, reason, ""

    def _purge_if_idle(self, job_id: str) -> None:
        with self._lock:
            if any(j == job_id for j, _ in self._running):
                return
        job = self.store.job(job_id)
        if job is not None and job.state not in TERMINAL:
            return
        if job is not None and job.state == JobState.FAILED:
            failed = self.store.failed_phase(job_id)
            if failed is not None and time.time() - failed[1] < self.resume_window_s:
                return  # kept for `vfl job resume`; a later sweep drops it
        self.inbox.forget(job_id)
        if isinstance(self.sealer, JobKeySealer):
            self.sealer.forget(job_id)  # erases the per-job key: recorded bodies stay closed
        with self._lock:
            self._own_keys.pop(job_id, None)  # a later resume publishes a new key

    def _deliver(self) -> None:
        while not self._stopped.is_set():
            self._mail.clear()  # before looking: mail stored after this sets it again
            try:
                moved = self.channel.deliver_pending()
            except Exception:  # a store hiccup: try again at the next wake-up
                log.exception("hosted programs: taking their mail failed")
                moved = 0
            if moved < BATCH:
                self._mail.wait(timeout=1.0)


def _statements(raw: dict[str, bytes]) -> list[KeyStatement]:
    keys = [pb.SealingKey.FromString(data) for data in raw.values()]
    return [KeyStatement(k.party, k.public_key, k.certificate, k.signature) for k in keys]


def hosted_model(state_dir: Path, job_id: str) -> Path:
    """Where the coordinator keeps a hosted program's model of a job."""
    return state_dir / "jobs" / job_id / "model"
