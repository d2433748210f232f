"""The party node daemon: connects out, registers its datasets, approves and runs jobs.

It reacts to the coordinator's job updates: decline a pending job outside this party's
[policy] (party.toml) the moment it sees it, approve the others when configured to,
start this party's program for the job's current phase unless it already finished it
(a node restarted after kill -9 resumes the phase: programs restart from their last
checkpoint and the inbox journal replays what peers already sent), and abort programs of
jobs that failed or were cancelled. Results, checkpoints and models stay on this machine.
Before a phase runs, the peers' sealing keys from the job update are verified against this
party's own CA (a coordinator that substitutes keys fails the job here), and the policy is
checked again: a job approved some other way still never runs outside it.

Retention: a succeeded or cancelled job's mail (memory and journal) and sealing keys are
dropped once none of its phases runs here. A failed job's journal is kept for
`resume_window_s` (party.toml), so `vfl job resume` can continue it from checkpoints; a
sweep every minute (and at start) purges failed jobs past that window.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import grpc

from parties.coordinator_link import CoordinatorLink
from parties.coordinator_reporter import CoordinatorReporter
from parties.grpc_channel import GrpcChannel
from parties.link_identity import LinkIdentity
from parties.programs import program_for
from parties.registered_data import describe, load_for_job
from parties.sealing_keys import from_bytes, job_key_message, node_sealing, offer_crl
from vfl.config.loading import parse_job, parse_job_json
from vfl.config.party_config import PartyConfig
from vfl.config.phase_plan import COORDINATOR, TERMINAL, JobState, phase_of
from vfl.crypto.sealing import JobKeySealer
from vfl.crypto.sealing.job_key_book import JobKeyBook
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.errors import ConfigError, CryptoError, JobAbortedError, PolicyError, failure_reason
from vfl.observability.endpoint import MetricsEndpoint
from vfl.observability.labels import ErrorKind, PhaseOutcome
from vfl.observability.party_metrics import PartyMetrics
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.registry.approval import prediction_refusal
from vfl.registry.locations import node_registry_dir
from vfl.registry.registration import MetricsTap, register_trained_part, trains
from vfl.registry.sqlite_registry import SqliteModelRegistry
from vfl.runtime.context import party_context
from vfl.runtime.inbox import Inbox
from vfl.runtime.local_fault import describe_local_fault
from vfl.runtime.node_store import PURGED, NodeStore
from vfl.runtime.score_sink import OutputPlace
from vfl.runtime.sealing import EnvelopeSealer
from vfl.runtime.workspace import Workspace, private_dir

log = logging.getLogger(__name__)
_T = TypeVar("_T")
SWEEP_S = 60.0
"""Seconds between sweeps for failed jobs whose resume window has passed."""


def credentials(config: PartyConfig) -> grpc.ChannelCredentials | None:
    if config.insecure:
        return None
    assert config.tls is not None, "validated: tls is required unless insecure"
    ca, cert, key = config.tls.read()
    return grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )


class PartyNode:
    """One party's daemon: its store, its link to the coordinator, the jobs it runs."""

    def __init__(self, config: PartyConfig) -> None:
        self.config = config
        self.store = NodeStore(config.state_dir / "party.db")  # makes state_dir 0700
        private_dir(config.state_dir / "jobs")
        # trained parts outlive their jobs' workspaces (docs/predict.md)
        self.registry = SqliteModelRegistry(node_registry_dir(config.state_dir))
        self.outputs = OutputPlace(
            private_dir(config.state_dir / "outputs"),
            confined=True,
            named=config.outputs,  # [outputs.NAME]: this party's own choices
            party=config.name,
        )
        self.inbox = Inbox(self.store, config.name, config.inbox_budget_mb << 20)
        sealing = node_sealing(config, self.store)
        self.sealer: EnvelopeSealer = sealing.sealer
        self.link = CoordinatorLink(
            config.coordinator,
            config.name,
            credentials(config),
            describe(config),
            self.inbox.deliver,
            self._on_job,
            config.heartbeat_s,
            config.reconnect_max_s,
            sealing.hello_key,
            # renewed certificates: for the link, and for signing per-job keys
            refresh=None if config.insecure else LinkIdentity(config, self._renewed),
        )
        self.channel = GrpcChannel(config.name, self.link.send_envelope, self.inbox, self.sealer)
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], threading.Thread] = {}
        self._asked: set[str] = set()
        # jobs the coordinator said are over: (state, when this node learned it), kept in
        # the node store so that the retention clock survives a restart
        self._ended: dict[str, tuple[str, float]] = self.store.ended()
        self._stopped = threading.Event()
        self._job_keys = JobKeyBook()  # job -> its participants' per-job key statements
        self._sealing: dict[str, set[str]] = {}  # job -> participants with a long-term key
        self.metrics = PartyMetrics()
        self.metrics.watch(self.link.connected.is_set)
        self.metrics_endpoint = MetricsEndpoint(config.metrics, self.metrics.registry)

    def start(self) -> None:
        self.metrics_endpoint.start()
        self.sweep()
        self.link.start()
        sweep_s = min(SWEEP_S, max(self.config.resume_window_s, 1.0))
        threading.Thread(target=self._sweep_loop, args=(sweep_s,), daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        self.link.stop()
        self.metrics_endpoint.stop()

    def sweep(self) -> None:
        """Purge every ended job whose retention has passed (and that no phase runs)."""
        with self._lock:
            ended = list(self._ended)
        for job_id in ended:
            self._purge_if_idle(job_id)

    def _sweep_loop(self, every_s: float) -> None:
        while not self._stopped.wait(every_s):
            try:
                self.sweep()
            except Exception:  # this party's own store: try again next time
                self.metrics.error(ErrorKind.SWEEP_FAILED)
                log.exception("sweep of ended jobs failed")

    # -- job updates -------------------------------------------------------------------
    def _on_job(self, update: pb.JobUpdate) -> None:
        job_id, state = update.job_id, update.state
        offer_crl(self.sealer, update)
        self._job_keys.replace_all(
            job_id, {k.party: k.SerializeToString() for k in update.job_keys}
        )
        with self._lock:
            self._sealing[job_id] = {k.party for k in update.sealing_keys}
        if state not in TERMINAL and (update.approved_by_you or phase_of(state) is not None):
            self._publish_job_key(update)
        if state == JobState.PENDING and not update.approved_by_you:
            if job_id in self._asked:
                return
            self._asked.add(job_id)
            refusal = self.refusal(job_id, update.spec_json)
            if refusal is not None:
                log.warning("job %s: declined: %s", job_id, refusal)
                decline = pb.Decline(job_id=job_id, reason=refusal)
                self.link.submit(pb.PartyMessage(decline=decline), wait=False)
            elif self.config.auto_approve:
                log.info("job %s: approving (auto_approve = true)", job_id)
                self.link.submit(pb.PartyMessage(approve=pb.Approve(job_id=job_id)), wait=False)
            else:
                log.warning("job %s awaits approval: %s", job_id, approval_hint(job_id))
        elif phase_of(state) is not None and state not in update.phases_done:
            self._reopen_if_resumed(job_id)
            self._run_phase_once(job_id, state, update.spec_json)
        elif state in TERMINAL:
            self.inbox.abort(job_id, f"job {state}")
            with self._lock:
                known = job_id in self._ended
            if not known:
                at = self._locally(lambda: self.store.mark_ended(job_id, state), time.time())
                with self._lock:
                    self._ended[job_id] = (state, at)
                self.metrics.job_ended(state)
            self._purge_if_idle(job_id)

    def _renewed(self, certificate: bytes, key: bytes) -> None:
        if isinstance(self.sealer, JobKeySealer):
            self.sealer.renew(certificate, key)

    def _publish_job_key(self, update: pb.JobUpdate) -> None:
        """Send this party's per-job key if the update lacks it (first time, or after the
        coordinator restarted: it keeps them in memory only)."""
        if not isinstance(self.sealer, JobKeySealer):
            return
        sealer = self.sealer
        found = self._locally(
            lambda: job_key_message(sealer, update.job_id, update.spec_json, update.job_keys),
            None,
        )
        if found is not None:
            self.link.submit(pb.PartyMessage(job_key=found), wait=False)

    def _locally(self, action: Callable[[], _T], fallback: _T) -> _T:
        """A write to this node's own store from the link's thread: a local fault (full
        disk, read-only file) is logged and the fallback used, never raised into the link,
        which would reconnect in a loop; the sweep and phases report it when it matters."""
        try:
            return action()
        except (sqlite3.Error, OSError) as exc:
            self.metrics.error(ErrorKind.LOCAL_STATE)
            log.error("this party cannot write its local state: %s", describe_local_fault(exc))
            return fallback

    def _reopen_if_resumed(self, job_id: str) -> None:
        """A job this node saw fail is live again (`vfl job resume`): take its mail again."""
        with self._lock:
            if self._ended.pop(job_id, None) is None:
                return
        self._locally(lambda: self.store.reopen(job_id), None)
        self.inbox.reopen(job_id)
        log.info("job %s: resumed; phases restart from their last checkpoint", job_id)

    def _purge_if_idle(self, job_id: str) -> None:
        """Drop an ended job's mail (memory and journal) and keys once no phase of it runs
        and its retention has passed (at once unless it failed, see the module docstring).

        Called when the end is announced, when a phase thread finishes, and by the sweep:
        the coordinator may announce the end before it acknowledges the last phase result,
        and that phase's thread (still waiting for the acknowledgement) must not keep the
        job's bodies on disk forever."""
        with self._lock:
            ended = self._ended.get(job_id)
            if ended is None or any(j == job_id for j, _ in self._running):
                return
        state, at = ended
        if state == PURGED:
            return
        if state == JobState.FAILED and time.time() - at < self.config.resume_window_s:
            return  # kept for `vfl job resume`; the sweep purges it when the window ends
        if not self._locally(lambda: self._drop(job_id), False):
            return  # the sweep tries again
        with self._lock:
            if self._ended.get(job_id) == ended:
                self._ended[job_id] = (PURGED, at)  # still ended: a resume must reopen it

    def _drop(self, job_id: str) -> bool:
        self.inbox.forget(job_id)
        if isinstance(self.sealer, JobKeySealer):
            self.sealer.forget(job_id)  # erases the per-job key: recorded bodies stay closed
        self._job_keys.drop(job_id)
        with self._lock:
            self._sealing.pop(job_id, None)
        self.store.mark_purged(job_id)
        return True

    def _require_sealing_peers(self, job_id: str, peers: list[str]) -> None:
        """Fail now, not wait forever, for a peer that does not seal at all (it publishes
        no long-term key, so it will never publish a per-job one)."""
        with self._lock:
            sealing = self._sealing.get(job_id, set())
        for peer in peers:
            if peer not in sealing:
                raise CryptoError(
                    f"job {job_id}: peer {peer} published no sealing key; every party node "
                    "of a job must seal (party.toml: seal = true, with [tls])"
                )

    def _over(self, job_id: str) -> bool:
        with self._lock:
            return self._stopped.is_set() or job_id in self._ended

    def refusal(self, job_id: str, spec_json: str) -> str | None:
        """Why this party refuses the job (one line), or None if its [policy] accepts it."""
        try:
            spec = parse_job(json.loads(spec_json), source=f"job {job_id}: spec")
        except (ConfigError, ValueError) as exc:
            return f"{exc}; this party cannot read the job spec the coordinator sent"
        found = self.config.policy.refusal(spec, job_id, self.config.name)
        if found is not None:
            return found.line
        # a prediction job: this party's part and, at deliver_to, the output (no data sent)
        return prediction_refusal(spec, job_id, self.config.name, self.registry, self.outputs)

    def _run_phase_once(self, job_id: str, phase: str, spec_json: str) -> None:
        with self._lock:
            if (job_id, phase) in self._running:
                return
            thread = threading.Thread(
                target=self._phase,
                args=(job_id, phase, spec_json),
                name=f"{job_id}-{phase}",
                daemon=True,
            )
            self._running[(job_id, phase)] = thread
        thread.start()

    def _phase(self, job_id: str, phase: str, spec_json: str) -> None:
        try:
            done = self.store.phase(job_id, phase)
            if done is None or done[0] != "done":
                started = time.monotonic()
                done = self._execute(job_id, phase, spec_json)
                outcome = _outcome(done)
                self.metrics.phase_ran(phase, outcome, time.monotonic() - started)
            if done is None:
                return  # aborted: the coordinator already knows why
            status, error, model_path = done
            self.link.submit(
                pb.PartyMessage(
                    phase_done=pb.PhaseDone(
                        job_id=job_id,
                        phase=phase,
                        ok=status == "done",
                        error=error or "",
                        bytes_sent=self.store.totals(job_id)["sent"],
                        bytes_received=self.store.totals(job_id)["received"],
                        model_path=model_path or "",
                    )
                ),
                wait=True,
            )
        except Exception:
            self.metrics.error(ErrorKind.REPORT_FAILED)
            log.exception("job %s: could not report %s", job_id, phase)
        finally:
            with self._lock:
                self._running.pop((job_id, phase), None)
            self._purge_if_idle(job_id)

    def _execute(
        self, job_id: str, phase: str, spec_json: str
    ) -> tuple[str, str | None, str | None] | None:
        workspace = Workspace(self.config.state_dir / "jobs" / job_id)
        try:
            spec = parse_job_json(spec_json, source=f"job {job_id}: spec")
            me = next((p for p in spec.parties if p.name == self.config.name), None)
            if me is None:
                raise ConfigError(f"job {job_id} does not name party {self.config.name}")
            refusal = self.config.policy.refusal(spec, job_id, self.config.name)
            if refusal is not None:
                raise PolicyError(refusal.line)
            program = program_for(spec, phase, me)
            if isinstance(self.sealer, JobKeySealer):
                # the coordinator is a peer too when it hosts a program (the aggregator)
                hosted = [COORDINATOR] if spec.plan.hosted else []
                names = [*(p.name for p in spec.parties), *hosted]
                peers = [n for n in names if n != me.name]
                self._require_sealing_peers(job_id, peers)
                found = self._job_keys.wait(job_id, peers, lambda: self._over(job_id))
                if found is None:
                    raise JobAbortedError(f"job {job_id} ended before its per-job keys arrived")
                self.sealer.admit(job_id, job_digest(spec_json), names, from_bytes(found))
            unfit = prediction_refusal(spec, job_id, me.name, self.registry, self.outputs)
            if unfit is not None:
                raise ConfigError(unfit)
            tap = MetricsTap(CoordinatorReporter(self.link, job_id, self.config.report), me.name)
            ctx = party_context(
                spec,
                me.name,
                job_id,
                phase,
                channel=self.channel,
                workspace=workspace,
                reporter=tap,
                ledger=self.metrics.ledger(self.store),
                data=load_for_job(self.config, spec),
                registry=self.registry,
                outputs=self.outputs,
            )
            log.info("job %s: %s started", job_id, phase)
            program.run(ctx)
            if trains(spec) and phase == spec.phases[-1]:
                register_trained_part(
                    self.registry, spec, job_id, me.name, workspace, tap.metrics, spec_json
                )
        except JobAbortedError:
            log.info("job %s: %s aborted", job_id, phase)
            return None
        except (sqlite3.Error, OSError) as exc:  # this party's own disk or state
            self.metrics.error(ErrorKind.LOCAL_STATE)
            reason = f"{self.config.name} cannot write its local state: "
            return self._failed(job_id, phase, reason + describe_local_fault(exc))
        except Exception as exc:
            with self._lock:
                ended = job_id in self._ended
            if ended:  # cancelled or failed elsewhere: what broke here is a consequence
                log.info("job %s: %s stopped, the job ended (%s)", job_id, phase, exc)
                return None
            return self._failed(job_id, phase, failure_reason(exc))
        model = workspace.root / "model"
        model_path = str(model.resolve()) if model.exists() else None
        self.store.set_phase(job_id, phase, "done", None, model_path)
        log.info("job %s: %s done", job_id, phase)
        return ("done", None, model_path)

    def _failed(self, job_id: str, phase: str, reason: str) -> tuple[str, str | None, None]:
        """Record and return a failed phase; a store that cannot record it (the disk is
        full) must not keep the failure from being reported."""
        log.error("job %s: %s failed: %s", job_id, phase, reason)
        try:
            self.store.set_phase(job_id, phase, "failed", reason, None)
        except (sqlite3.Error, OSError) as exc:
            log.error("job %s: could not record the failure locally: %s", job_id, exc)
        return ("failed", reason, None)


def _outcome(done: tuple[str, str | None, str | None] | None) -> PhaseOutcome:
    if done is None:
        return PhaseOutcome.ABORTED
    return PhaseOutcome.DONE if done[0] == "done" else PhaseOutcome.FAILED


def model_dir(state_dir: Path, job_id: str) -> Path:
    """Where a party node keeps its part of a job's model."""
    return state_dir / "jobs" / job_id / "model"


def approval_hint(job_id: str) -> str:
    """The command an operator runs to approve a job here: `--config` is required."""
    return f"vfl party approve {job_id} --config PARTY_TOML (this node's party.toml)"
