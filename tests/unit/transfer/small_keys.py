"""Run a transfer job like `vfl.simulate`, but with small Paillier keys (vfl.crypto.testing:
512 bits, tests only; benchmarks pass production keys) and fixed party secrets, every
envelope recorded, the bytes and seconds of each phase counted and, given a transcript,
every message each party received kept decoded."""

from __future__ import annotations

import hashlib
from pathlib import Path

from parties.data import load_dataset
from parties.programs import check_runnable, program_for
from tests.unit.split_paillier.harness import RecordingHub, fixed_secret
from vfl.algorithms.transfer.exchange import KeyPolicy
from vfl.algorithms.transfer.source import TransferTrainSource
from vfl.algorithms.transfer.target import TransferTrainTarget
from vfl.config.job_spec import PartySpec, TransferJobSpec
from vfl.crypto.testing import insecure_keygen
from vfl.runtime.context import party_context
from vfl.runtime.events import Event
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.program import Program
from vfl.runtime.simulator import PartyRun, run_phase
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace

TEST_KEY_BITS = 512
SMALL_KEYS = KeyPolicy(keygen=insecure_keygen(TEST_KEY_BITS), min_key_bits=TEST_KEY_BITS)
DIGEST = hashlib.sha256(b"transfer-job-harness").digest()
"""One digest for every spec: a plain and a Paillier run of otherwise equal specs draw
the same initial weights from the same fixed secrets."""


class Events:
    def __init__(self) -> None:
        self.events: list[tuple[str, Event]] = []
        self.phase_bytes: dict[str, int] = {}
        """Envelope body bytes each phase sent, both directions."""
        self.phase_seconds: dict[str, float] = {}

    def report(self, party: str, event: Event) -> None:
        self.events.append((party, event))


def _program(spec: TransferJobSpec, phase: str, p: PartySpec, keys: KeyPolicy) -> Program:
    if phase == "train" and p.role == "source":
        return TransferTrainSource(keys)
    if phase == "train" and p.role == "target":
        return TransferTrainTarget(keys)
    return program_for(spec, phase, p)


def run_transfer(
    spec: TransferJobSpec,
    workdir: Path,
    transcript: Transcript | None = None,
    keys: KeyPolicy = SMALL_KEYS,
    events: Events | None = None,
) -> tuple[Events, RecordingHub]:
    """Every phase of `spec` in threads over one recording hub; workspaces in `workdir`."""
    check_runnable(spec)
    events, hub = events or Events(), RecordingHub()
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    for p in spec.parties:
        fixed_secret(Workspace(workdir / p.name), "job", p.name)
    for phase in spec.phases:
        runs = {}
        for p in spec.parties:
            channel = hub.channel(p.name)
            ctx = party_context(
                spec,
                p.name,
                "job",
                phase,
                channel=channel if transcript is None else transcript.channel(channel),
                workspace=Workspace(workdir / p.name),
                reporter=events,
                ledger=MemoryLedger(),
                data=datasets[p.name],
                spec_digest=DIGEST,
            )
            runs[p.name] = PartyRun(_program(spec, phase, p, keys), ctx)
        before = len(hub.envelopes)
        events.phase_seconds[phase] = run_phase(hub, "job", runs)
        events.phase_bytes[phase] = sum(len(e.body) for e in hub.envelopes[before:])
    return events, hub
