"""The simulator with every participant in its own Ray actor: `simulate(backend="ray")`.

The thread simulator (`vfl.runtime.simulator`) runs all programs in one process; when one
machine is not enough, this runs each participant (every party, and the coordinator when
it hosts a program) as a Ray actor, on whichever node of the Ray cluster has room, over a
`RayHub`. The programs, contexts, workspaces, ledgers and party secrets are those of the
thread simulator; only where they run differs, so both give the same model.

Each actor loads its own party's rows from the spec (the path must be readable on the
node it runs on) and keeps its workspace under the run folder on that node: rows never
travel through Ray's object store. What comes back to the driver is what the threads
simulator's collector sees: events (aggregates only) through a Ray queue, as they happen,
and each party's byte totals and failure at the end of a phase.

Like the hub, party actors reserve no CPU: they spend most of their time waiting for each
other, and on a cluster with fewer free cores than participants, actors holding a core
each would wait forever for peers that cannot start.

This module is an entry point (it wires the party side to the runtime, as `vfl.api`
does). It and `vfl.runtime.ray_hub` are the only modules that import Ray, an optional
extra (`pip install 'vfl[ray]'`); `vfl.api` imports this one only for `backend="ray"`.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError
from ray.util.queue import Queue

from parties.data import load_dataset
from parties.programs import program_for_role
from vfl.config.job_spec import JobSpec
from vfl.dataset import PartyDataset
from vfl.errors import JobAbortedError, VflError
from vfl.runtime.context import party_context
from vfl.runtime.events import Event, Reporter
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.party_secret import secret_file
from vfl.runtime.ray_hub import RayHub
from vfl.runtime.simulator import PartyFailedError
from vfl.runtime.workspace import Workspace

_POLL_S = 0.2
"""How often the driver forwards queued events while a phase runs."""


@contextmanager
def connected() -> Iterator[None]:
    """Ray as the caller set it up (`ray.init(...)` before `simulate`), or else a Ray
    instance of Ray's own choosing (`RAY_ADDRESS`, or a local one), shut down afterwards."""
    if ray.is_initialized():
        yield
        return
    ray.init(include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()


@dataclass(frozen=True)
class PhaseOutcome:
    """What a participant's actor hands back after a phase: no rows, no tensors."""

    totals: dict[str, int]
    failure: BaseException | None = None


class _QueueReporter:
    """Reports a participant's events to the driver through a Ray queue, in order."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def report(self, party: str, event: Event) -> None:
        self._queue.put((party, event))


class _Participant:
    """One participant of the job, in its own Ray worker, for every phase of the job."""

    def __init__(
        self,
        spec: JobSpec,
        name: str,
        job_id: str,
        root: str,
        secret: bytes | None,
        spec_digest: bytes | None,
        hub: RayHub,
        events: Queue,
    ) -> None:
        import torch  # noqa: PLC0415 (the actor's worker, not the module, needs it)

        # as `vfl simulate` does: per-batch matrices gain nothing from intra-op threads
        torch.set_num_threads(int(os.environ.get("VFL_TORCH_THREADS", "1")))
        self._spec = spec
        self._name = name
        self._job_id = job_id
        self._spec_digest = spec_digest
        self._hub = hub
        self._reporter: Reporter = _QueueReporter(events)
        self._workspace = Workspace(Path(root))
        if secret is not None:
            self._workspace.private(secret_file(job_id), lambda: secret)
        self._ledger = MemoryLedger()
        self._data: PartyDataset | None = None

    def load(self) -> VflError | None:
        """Read this party's rows here, on its node; the error, if any, for the driver."""
        me = next((p for p in self._spec.parties if p.name == self._name), None)
        try:
            self._data = None if me is None else load_dataset(self._spec, me)
        except VflError as error:
            return error
        return None

    def run(self, phase: str) -> PhaseOutcome:
        ctx = party_context(
            self._spec,
            self._name,
            self._job_id,
            phase,
            channel=self._hub.channel(self._name),
            workspace=self._workspace,
            reporter=self._reporter,
            ledger=self._ledger,
            data=self._data,
            spec_digest=self._spec_digest,
        )
        failure: BaseException | None = None
        try:
            program_for_role(self._spec, phase, ctx.role).run(ctx)
        except BaseException as exc:  # handed to the driver, which names the party
            failure = _portable(exc)
            self._hub.abort(self._job_id, f"party {self._name} failed")
        return PhaseOutcome(self._ledger.totals(self._job_id), failure)


def _portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling to the driver, else a VflError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 (our own bytes, just made)
    except Exception:
        error = VflError(f"{type(exc).__name__}: {exc}")
        error.exit_code = exc.exit_code if isinstance(exc, VflError) else 1
        return error
    return exc


class RaySimulation:
    """The participants of one job as Ray actors; use inside `connected()`."""

    def __init__(
        self,
        spec: JobSpec,
        job_id: str,
        participants: list[str],
        root: Path,
        party_secrets: Mapping[str, bytes],
        spec_digest: bytes | None,
        collector: Reporter,
    ) -> None:
        self._job_id = job_id
        self._collector = collector
        self._hub = RayHub.start(len(participants))
        self._events = Queue(actor_options={"num_cpus": 0})
        actor = ray.remote(_Participant).options(num_cpus=0, scheduling_strategy="SPREAD")
        self._actors: dict[str, Any] = {
            name: actor.remote(
                spec,
                name,
                job_id,
                str((root / name).resolve()),
                party_secrets.get(name),
                spec_digest,
                self._hub,
                self._events,
            )
            for name in participants
        }
        self.totals: dict[str, dict[str, int]] = {name: {} for name in participants}

    def load(self) -> None:
        """Every party reads its rows; the first invalid one raises its own error here."""
        loads = {name: a.load.remote() for name, a in self._actors.items()}
        for name, ref in loads.items():
            try:
                error = ray.get(ref)
            except RayError as failed:  # its worker could not start or import vfl
                raise VflError(
                    f"party {name}: its Ray actor did not start ({type(failed).__name__}); "
                    "every Ray node needs vfl installed, with the ray extra"
                ) from failed
            if error is not None:
                raise error

    def run_phase(self, phase: str) -> float:
        """Run one phase on every participant; its wall time in seconds, as `run_phase`."""
        start = time.perf_counter()
        names = {a.run.remote(phase): name for name, a in self._actors.items()}
        waiting = list(names)
        failures: dict[str, BaseException] = {}
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=_POLL_S)
            self._forward_events()
            for ref in done:
                party = names[ref]
                try:
                    outcome: PhaseOutcome = ray.get(ref)
                except RayError as error:  # its worker died: its peers must stop waiting
                    failures[party] = VflError(f"its Ray actor died ({type(error).__name__})")
                    self._hub.abort(self._job_id, f"party {party} failed")
                    continue
                self.totals[party] = outcome.totals
                if outcome.failure is not None:
                    failures[party] = outcome.failure
        self._forward_events()
        elapsed = time.perf_counter() - start
        if failures:
            real = {p: e for p, e in failures.items() if not isinstance(e, JobAbortedError)}
            party, cause = next(iter((real or failures).items()))
            raise PartyFailedError(party, cause) from cause
        return elapsed

    def stop(self) -> None:
        for actor in self._actors.values():
            ray.kill(actor)
        self._events.shutdown()
        self._hub.stop()

    def _forward_events(self) -> None:
        # a party's events are put in order by its one worker thread, and come out in order
        count = self._events.qsize()
        if count:
            for party, event in self._events.get_nowait_batch(count):
                self._collector.report(party, event)
