"""Run a job like `vfl.simulate`, but with a small-key factory and every envelope recorded
(and, given a transcript, every message each party received, decoded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from parties.data import load_dataset
from parties.programs import PHASES, program_for
from vfl.algorithms.split.feature_holder import SplitEvaluateFeatureHolder, SplitTrainFeatureHolder
from vfl.algorithms.split.paillier.feature_side import KeyGen
from vfl.config.job_spec import JobSpec
from vfl.crypto.testing import insecure_keygen
from vfl.protocol.envelope import Envelope
from vfl.runtime.context import PartyContext
from vfl.runtime.events import Event, MetricsReport, StepReport
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.program import Program
from vfl.runtime.simulator import PartyRun, run_phase
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace


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
    spec: JobSpec,
    workdir: Path,
    keygen: KeyGen | None = None,
    run: Run | None = None,
    transcript: Transcript | None = None,
) -> Run:
    keygen = keygen or insecure_keygen(512)
    run = run or Run()
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    for phase in PHASES:
        runs = {}
        for p in spec.parties:
            program: Program = program_for(spec, phase, p)
            if p.role == "feature_holder" and phase == "train":
                program = SplitTrainFeatureHolder(keygen)
            elif p.role == "feature_holder" and phase == "evaluate":
                program = SplitEvaluateFeatureHolder(keygen)
            ctx = PartyContext(
                party=p.name,
                role=p.role,
                job=spec,
                job_id="job",
                channel=(
                    run.hub.channel(p.name)
                    if transcript is None
                    else transcript.channel(run.hub.channel(p.name))
                ),
                workspace=Workspace(workdir / p.name),
                reporter=run,
                ledger=MemoryLedger(),
                data=datasets[p.name],
                protection=spec.train.protection,
                scope=phase,
            )
            runs[p.name] = PartyRun(program, ctx)
        run_phase(run.hub, "job", runs)
    return run
