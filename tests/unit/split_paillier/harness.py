"""Run a job like `vfl.simulate`, but with a small-key factory and every envelope recorded
(and, given a transcript, every message each party received, decoded)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from parties.data import load_dataset
from parties.programs import program_for
from vfl.algorithms.split.feature_holder import SplitEvaluateFeatureHolder, SplitTrainFeatureHolder
from vfl.algorithms.split.label_holder import SplitEvaluateLabelHolder, SplitTrainLabelHolder
from vfl.algorithms.split.paillier.phase_keys import AnyKeyGen as KeyGen
from vfl.config.job_spec import PartySpec, VerticalJobSpec
from vfl.crypto.testing import insecure_keygen
from vfl.protocol.envelope import Envelope
from vfl.runtime.context import party_context
from vfl.runtime.events import Event, MetricsReport, StepReport
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.party_secret import secret_file
from vfl.runtime.program import Program
from vfl.runtime.simulator import PartyRun, run_phase
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace

TEST_KEY_BITS = 512
FIXED_SPEC_DIGEST = hashlib.sha256(b"harness").digest()
"""One digest for every spec: a plain and a Paillier run of otherwise equal specs then draw
the same initial weights from the same fixed secrets (the oracles compare them)."""


def small_key_program(spec: VerticalJobSpec, phase: str, p: PartySpec, keygen: KeyGen) -> Program:
    """The party's program, with feature holders making keys by `keygen` and the label
    holder accepting keys of TEST_KEY_BITS (production refuses anything under 2048)."""
    if p.role == "feature_holder" and phase == "train":
        return SplitTrainFeatureHolder(keygen)
    if p.role == "feature_holder" and phase == "evaluate":
        return SplitEvaluateFeatureHolder(keygen)
    if p.role == "label_holder" and phase == "train":
        return SplitTrainLabelHolder(min_key_bits=TEST_KEY_BITS)
    if p.role == "label_holder" and phase == "evaluate":
        return SplitEvaluateLabelHolder(min_key_bits=TEST_KEY_BITS)
    return program_for(spec, phase, p)


def fixed_secret(workspace: Workspace, job_id: str, party: str) -> None:
    """Give `party` a secret that depends on its name only, unless it has one already."""
    workspace.private(secret_file(job_id), lambda: hashlib.sha256(party.encode()).digest())


class RecordingHub(InMemoryHub):
    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def post(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)
        super().post(envelope)


@dataclass
class Run:
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    hub: RecordingHub = field(default_factory=RecordingHub)

    def report(self, party: str, event: Event) -> None:
        if isinstance(event, StepReport):
            self.losses.append(event.loss)
        elif isinstance(event, MetricsReport):
            self.metrics[event.split] = dict(event.values)


def run_job(
    spec: VerticalJobSpec,
    workdir: Path,
    keygen: KeyGen | None = None,
    run: Run | None = None,
    transcript: Transcript | None = None,
) -> Run:
    keygen = keygen or insecure_keygen(TEST_KEY_BITS)
    run = run or Run()
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    for p in spec.parties:  # fixed secrets: runs in other folders start from the same weights
        fixed_secret(Workspace(workdir / p.name), "job", p.name)
    for phase in spec.phases:
        runs = {}
        for p in spec.parties:
            program = small_key_program(spec, phase, p, keygen)
            ctx = party_context(
                spec,
                p.name,
                "job",
                phase,
                channel=(
                    run.hub.channel(p.name)
                    if transcript is None
                    else transcript.channel(run.hub.channel(p.name))
                ),
                workspace=Workspace(workdir / p.name),
                reporter=run,
                ledger=MemoryLedger(),
                data=datasets[p.name],
                spec_digest=FIXED_SPEC_DIGEST,
            )
            runs[p.name] = PartyRun(program, ctx)
        run_phase(run.hub, "job", runs)
    return run
