"""One participant of a simulated job in its own process: `simulate(backend="processes")`.

The parent (`vfl.process_simulation`) spawns this once per participant with what the
thread simulator would hand the party's thread: the spec, its run folder, its party
secret when fixed, its registry's folder. The process reads its own rows, then runs each
phase the parent names, reporting events as they happen and its byte totals and failure
at the end of each phase, as JSON frames (`vfl.runtime.process_frames`).

If the parent's pipe closes while the job runs (the parent was killed), the process exits
at once: no participant outlives the simulator that started it.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NoReturn

from parties.data import load_dataset
from parties.programs import program_for_role
from vfl.config.job_spec import JobSpec
from vfl.dataset import PartyDataset
from vfl.registry.sqlite_registry import SqliteModelRegistry
from vfl.runtime.context import party_context
from vfl.runtime.events import Event
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.mesh_hub import MeshHub
from vfl.runtime.party_secret import secret_file
from vfl.runtime.process_frames import (
    FrameKind,
    encode_event,
    encode_failure,
    json_frame,
    parse,
)
from vfl.runtime.score_sink import OutputPlace
from vfl.runtime.workspace import Workspace

EVENT_FLUSH_S = 0.2
"""At most this long between an event and its frame to the parent (progress display)."""

_ORPHANED = 70
"""Exit status when the parent's pipe closed mid-job (EX_SOFTWARE)."""


@dataclass(frozen=True)
class ParticipantSetup:
    """What the parent hands a participant's process when it spawns it (pickled by
    multiprocessing on the parent's side: the parent's own objects, never a peer's)."""

    spec: JobSpec
    name: str
    job_id: str
    root: Path
    """The participant's workspace (its run folder)."""
    registry: Path | None
    """Its model registry's folder; None for the coordinator, which keeps no parts."""
    secret: bytes | None
    """Its party secret when the caller fixed it (a reproducible run), else None."""
    spec_digest: bytes | None
    torch_threads: int


class _ControlReporter:
    """Sends events to the parent in order, a batch at a time: one frame per training
    step would wake the parent's process (a third one on the cores) at every batch."""

    def __init__(self, control: Connection, lock: threading.Lock) -> None:
        self._control, self._lock = control, lock
        self._pending: list[dict[str, Any]] = []
        self._last = time.monotonic()

    def report(self, party: str, event: Event) -> None:
        self._pending.append(encode_event(event))
        if time.monotonic() - self._last >= EVENT_FLUSH_S:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            with self._lock:
                self._control.send_bytes(json_frame(FrameKind.EVENTS, self._pending))
            self._pending = []
        self._last = time.monotonic()


def participant_main(
    setup: ParticipantSetup, control: Connection, peers: dict[str, Connection]
) -> None:
    """The process's target: load, then run phases until the parent says stop."""
    _warm_torch(setup.torch_threads)
    orders: queue.Queue[tuple[FrameKind, str]] = queue.Queue()
    state: dict[str, MeshHub] = {}

    def on_control(data: bytes | None) -> None:
        if data is None:  # the parent is gone: nobody will collect this party's work
            _exit(_ORPHANED)
        kind, text = parse(data)
        if kind == FrameKind.ABORT:
            if "hub" in state:  # else it came before any phase ran: nothing waits yet
                state["hub"].abort(setup.job_id, text)
        else:
            orders.put((kind, text))

    hub = MeshHub(setup.name, peers, control, on_control)
    state["hub"] = hub
    lock = threading.Lock()
    workspace = Workspace(setup.root)
    if setup.secret is not None:
        secret = setup.secret
        workspace.private(secret_file(setup.job_id), lambda: secret)
    data, failure = _load(setup)
    with lock:
        control.send_bytes(json_frame(FrameKind.LOADED, failure))
    reporter = _ControlReporter(control, lock)
    ledger = MemoryLedger()
    registry = None if setup.registry is None else SqliteModelRegistry(setup.registry)
    while True:
        kind, phase = orders.get()
        if kind != FrameKind.RUN:
            _exit(0)
        error: dict[str, object] | None = None
        try:
            ctx = party_context(
                setup.spec,
                setup.name,
                setup.job_id,
                phase,
                channel=hub.channel(),
                workspace=workspace,
                reporter=reporter,
                ledger=ledger,
                data=data,
                spec_digest=setup.spec_digest,
                registry=registry,
                outputs=OutputPlace(setup.spec.base_dir),
            )
            program_for_role(setup.spec, phase, ctx.role).run(ctx)
        except BaseException as exc:  # reported to the parent, which names the party
            error = encode_failure(exc)
        done = {"totals": ledger.totals(setup.job_id), "failure": error}
        reporter.flush()  # every event of the phase reaches the parent before its end
        with lock:
            control.send_bytes(json_frame(FrameKind.DONE, done))


def _warm_torch(threads: int) -> None:
    """Size torch's thread pool, then take one optimizer step on a toy model: the first
    step of a process imports torch._dynamo and sympy (~800 modules, seconds of CPU).
    Here it happens while the peers start too, not in the middle of the first batch, where
    every peer would wait for it and the phase's time would count it."""
    import torch  # noqa: PLC0415 (only the child needs its thread pool sized)

    torch.set_num_threads(threads)
    toy = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(toy.parameters(), lr=0.1)
    toy(torch.ones(1, 2)).sum().backward()
    optimizer.step()


def _exit(status: int) -> NoReturn:
    """End the process now, as a forked multiprocessing child does: everything it wrote is
    on disk already, and an interpreter teardown with torch loaded takes seconds."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _load(setup: ParticipantSetup) -> tuple[PartyDataset | None, dict[str, object] | None]:
    """This party's rows, read here; or the error that reading them raised."""
    me = next((p for p in setup.spec.parties if p.name == setup.name), None)
    try:
        return (None if me is None else load_dataset(setup.spec, me)), None
    except Exception as exc:  # the parent raises it as simulate does with threads
        return None, encode_failure(exc)
