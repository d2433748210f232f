"""Kill one party's train program mid-epoch and restart only that party, in one process.

What a deployment does after `kill -9` of one party node (docs/architecture.md, Resume),
with the same programs: the victim's first program dies at a chosen message; a new
program starts on the same workspace and ledger (so the replay guard checks every re-sent
body) with fresh sequence counters, re-sends from its last checkpoint (the hub drops the
duplicates, as the relay does), and receives the messages it
had already received again from a journal, as `vfl/runtime/inbox.py` hands them out. The
peer's program keeps running throughout and never notices.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from parties.data import load_dataset
from tests.unit.split_paillier.harness import (
    FIXED_SPEC_DIGEST,
    RecordingHub,
    Run,
    small_key_program,
)
from vfl.algorithms.split.paillier.phase_keys import KeyGen
from vfl.config.job_spec import PartySpec, VerticalJobSpec
from vfl.crypto.keys import KeyPair
from vfl.crypto.testing import insecure_keygen
from vfl.protocol.envelope import Envelope
from vfl.runtime.channel import Channel, ForwardingChannel
from vfl.runtime.context import PartyContext, party_context
from vfl.runtime.events import Event, StepReport
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.simulator import PartyRun, run_phase
from vfl.runtime.workspace import Workspace


class JournalHub(RecordingHub):
    """Records every post (duplicates too) and keeps what each party received, so a
    restarted program is handed the same envelopes again, like a party's inbox journal."""

    def __init__(self) -> None:
        super().__init__()
        self._journal: dict[tuple[str, str, str, str], bytes] = {}
        self._journal_lock = threading.Lock()

    def take(self, job_id: str, src: str, dst: str, seq: str, timeout: float) -> Envelope:
        key = (job_id, src, dst, seq)
        with self._journal_lock:
            stored = self._journal.get(key)
        if stored is not None:
            return Envelope.from_bytes(stored)
        envelope = super().take(job_id, src, dst, seq, timeout)
        with self._journal_lock:
            self._journal[key] = envelope.to_bytes()
        return envelope


class CrashError(Exception):
    """The power goes out: raised instead of sending one chosen envelope."""


class CrashingChannel(ForwardingChannel):
    """Forwards everything, but dies instead of sending the envelope `crash_at`."""

    def __init__(self, inner: Channel, crash_at: str) -> None:
        super().__init__(inner)
        self.crash_at = crash_at
        self.crashed = False

    def send(self, envelope: Envelope) -> None:
        if envelope.seq == self.crash_at:
            self.crashed = True
            raise CrashError(f"{envelope.src} dies before sending {envelope.seq}")
        self._inner.send(envelope)


@dataclass
class RestartRun(Run):
    """Per-step losses by (epoch, batch): a restarted label holder reports replayed steps
    again, with the same values if the replay is exact."""

    steps: dict[tuple[int, int], float] = field(default_factory=dict)
    hub: RecordingHub = field(default_factory=JournalHub)

    def report(self, party: str, event: Event) -> None:
        if isinstance(event, StepReport):
            self.steps[(event.epoch, event.batch)] = event.loss
        super().report(party, event)


@dataclass
class CountingKeygen:
    """A small-key factory that counts how often a program had to make a key."""

    calls: int = 0
    make: KeyGen = field(default_factory=lambda: insecure_keygen(512))

    def __call__(self, bits: int) -> KeyPair:
        self.calls += 1
        return self.make(bits)


_program = small_key_program


def run_with_restart(
    spec: VerticalJobSpec, workdir: Path, victim: str, crash_at: str, keygen: KeyGen
) -> RestartRun:
    """align → train (victim killed before sending `crash_at`, then restarted) → evaluate."""
    run = RestartRun()
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    ledgers = {p.name: MemoryLedger() for p in spec.parties}  # kept across the restart

    def ctx(p: PartySpec, phase: str, channel: Channel) -> PartyContext:
        return party_context(
            spec,
            p.name,
            "job",
            phase,
            channel=channel,
            workspace=Workspace(workdir / p.name),
            reporter=run,
            ledger=ledgers[p.name],
            data=datasets[p.name],
            spec_digest=FIXED_SPEC_DIGEST,
        )

    def phase_runs(phase: str) -> dict[str, PartyRun]:
        return {
            p.name: PartyRun(
                _program(spec, phase, p, keygen), ctx(p, phase, run.hub.channel(p.name))
            )
            for p in spec.parties
        }

    run_phase(run.hub, "job", phase_runs("align"))
    _train_with_restart(spec, run, victim, crash_at, keygen, ctx)
    run_phase(run.hub, "job", phase_runs("evaluate"))
    return run


MakeCtx = Callable[[PartySpec, str, Channel], PartyContext]


def _train_with_restart(
    spec: VerticalJobSpec,
    run: RestartRun,
    victim: str,
    crash_at: str,
    keygen: KeyGen,
    make_ctx: MakeCtx,
) -> None:
    errors: dict[str, BaseException] = {}
    crashing = CrashingChannel(run.hub.channel(victim), crash_at)

    def party(p: PartySpec) -> None:
        try:
            if p.name != victim:
                _program(spec, "train", p, keygen).run(
                    make_ctx(p, "train", run.hub.channel(p.name))
                )
                return
            with contextlib.suppress(CrashError):
                _program(spec, "train", p, keygen).run(make_ctx(p, "train", crashing))
            # a new program on the same workspace, with fresh counters and a live channel
            _program(spec, "train", p, keygen).run(make_ctx(p, "train", run.hub.channel(p.name)))
        except BaseException as exc:  # reported below
            errors[p.name] = exc
            run.hub.abort("job", f"party {p.name} failed")

    threads = [threading.Thread(target=party, args=(p,), daemon=True) for p in spec.parties]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        name, exc = next(iter(errors.items()))
        raise AssertionError(f"party {name} failed: {exc!r}") from exc
    assert crashing.crashed, f"{victim} never reached {crash_at}: nothing was interrupted"
