"""A transfer job with each party in its own OS process: the deployed shape, for timing.

`benchmarks/transfer.py` runs both parties in one process (the simulator's threads), where
gmpy2 holds the GIL and the two parties' Paillier work is serialised: wall ≈ the sum of
both parties' CPU. Deployed, each party is its own process (its own node, here on the same
2-core box), so the parties compute at the same time. This runs the same programs, job
spec, production keys and fixed party secrets as the simulator run, one `spawn`ed process
per party, phase after phase; the envelopes between the two cross a pipe (no coordinator,
TLS or sealing: those cost the same per byte in both runs and are measured elsewhere).

Each child reports, per phase, its wall and process CPU seconds (all its threads) and the
envelope body bytes it sent, plus the source's epoch-end times and the target's
OutputReport; nothing of the data, keys or ciphertexts.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from parties.data import load_dataset
from tests.transfer_factory import transfer_spec
from tests.unit.split_paillier.harness import fixed_secret
from tests.unit.transfer.small_keys import DIGEST, _program
from vfl.algorithms.transfer.exchange import KeyPolicy
from vfl.protocol.envelope import Envelope
from vfl.runtime.context import party_context
from vfl.runtime.events import Event, OutputReport, Progress
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.workspace import Workspace

LIMIT_S = 3600.0
"""The parent's wait for a child's report: past it the children are stopped."""


class PipeHub(InMemoryHub):
    """One party's mailboxes: envelopes for itself stay here, the peer's cross the pipe;
    a pump thread posts what the peer sends (waiting on the pipe releases the GIL)."""

    def __init__(self, party: str, conn: Connection) -> None:
        super().__init__()
        self.party = party
        self.sent = 0
        """Envelope body bytes sent to the peer."""
        self._conn = conn
        self._lock = threading.Lock()
        threading.Thread(target=self._pump, name="pipe-pump", daemon=True).start()

    def post(self, envelope: Envelope) -> None:
        if envelope.dst == self.party:
            super().post(envelope)
            return
        data = envelope.to_bytes()
        with self._lock:
            self._conn.send_bytes(data)
            self.sent += len(envelope.body)

    def _pump(self) -> None:
        while True:
            try:
                data = self._conn.recv_bytes()
            except (EOFError, OSError):
                return
            super().post(Envelope.from_bytes(data))


class _Reporter:
    """The source's train epoch ends (perf_counter) and every OutputReport's path."""

    def __init__(self) -> None:
        self.epoch_ends: list[float] = []
        self.outputs: list[str] = []

    def report(self, party: str, event: Event) -> None:
        if isinstance(event, Progress) and event.phase == "train":
            self.epoch_ends.append(time.perf_counter())
        elif isinstance(event, OutputReport):
            self.outputs.append(event.path)


def _party(name: str, spec_json: str, workdir: str, conn: Connection, out: Connection) -> None:
    """A child: every phase of `name`'s programs over the pipe; one report at the end."""
    spec = transfer_spec(json.loads(spec_json))
    me = next(p for p in spec.parties if p.name == name)
    hub = PipeHub(name, conn)
    reporter = _Reporter()
    workspace = Workspace(Path(workdir) / name)
    fixed_secret(workspace, "job", name)
    data = load_dataset(spec, me)
    phases: dict[str, dict[str, float]] = {}
    for phase in spec.phases:
        ctx = party_context(
            spec,
            name,
            "job",
            phase,
            channel=hub.channel(name),
            workspace=workspace,
            reporter=reporter,
            ledger=MemoryLedger(),
            data=data,
            spec_digest=DIGEST,
        )
        cpu, wall, sent = time.process_time(), time.perf_counter(), hub.sent
        _program(spec, phase, me, KeyPolicy()).run(ctx)
        phases[phase] = {
            "cpu_s": time.process_time() - cpu,
            "wall_s": time.perf_counter() - wall,
            "bytes": hub.sent - sent,
        }
    out.send({"phases": phases, "epoch_ends": reporter.epoch_ends, "outputs": reporter.outputs})


def run_in_processes(spec: dict[str, Any], workdir: Path) -> dict[str, dict[str, Any]]:
    """Run `spec` (a transfer job dict) with one process per party; each party's report."""
    mp = multiprocessing.get_context("spawn")
    names = [p["name"] for p in spec["parties"]]
    ends = dict(zip(names, mp.Pipe(), strict=True))
    children = {}
    reports: dict[str, dict[str, Any]] = {}
    for name in names:
        reader, writer = mp.Pipe(duplex=False)
        child = mp.Process(
            target=_party,
            args=(name, json.dumps(spec), str(workdir), ends[name], writer),
            name=f"ftl-{name}",
        )
        child.start()
        writer.close()
        children[name] = (child, reader)
    deadline = time.monotonic() + LIMIT_S
    try:
        while len(reports) < len(children):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no report from every party within {LIMIT_S:.0f} s")
            for name, (child, reader) in children.items():
                if name in reports or not reader.poll(0.2):
                    continue
                try:
                    reports[name] = reader.recv()
                except EOFError:  # it died: its peer would wait for it until its timeout
                    raise RuntimeError(f"party {name} exited with {child.exitcode}") from None
    finally:
        for child, _ in children.values():
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
                child.join()
    return reports
