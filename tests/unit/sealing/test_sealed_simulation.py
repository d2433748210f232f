"""The deployment's sealing code path, run by the simulator's in-memory channels: a whole
job (align, train, evaluate) gives exactly the unsealed result, every body on the hub is
ciphertext that looks uniformly random, and every ledger row says it was sealed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from parties.data import load_dataset
from parties.programs import program_for
from tests.sealing_harness import (
    CHI2_LIMIT,
    SPEC_JSON,
    chi_square,
    ciphertext_of,
    coordinator_keys,
    federation,
    opens_with_any,
    true_key,
)
from tests.unit.split_paillier.harness import fixed_secret
from vfl.config.job_spec import VerticalJobSpec, vertical
from vfl.config.loading import load_job
from vfl.crypto.sealing import SEALING_NAME
from vfl.crypto.sealing.sealed_body import associated_data
from vfl.protocol.envelope import Envelope
from vfl.runtime.context import party_context
from vfl.runtime.events import Event, MetricsReport
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import LedgerEntry
from vfl.runtime.sealing import EnvelopeSealer
from vfl.runtime.simulator import PartyRun, run_phase
from vfl.runtime.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "breast" / "job.toml"
JOB = "job-sealed"


class RecordingHub(InMemoryHub):
    def __init__(self) -> None:
        super().__init__()
        self.posted: list[Envelope] = []

    def post(self, envelope: Envelope) -> None:
        self.posted.append(envelope)
        super().post(envelope)


@dataclass
class Run:
    hub: RecordingHub = field(default_factory=RecordingHub)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    entries: list[LedgerEntry] = field(default_factory=list)

    def report(self, party: str, event: Event) -> None:
        if isinstance(event, MetricsReport):
            self.metrics[f"{party}/{event.split}"] = dict(event.values)

    def record(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)

    def totals(self, job_id: str) -> dict[str, int]:
        return {"sent": 0, "received": 0}

    def remember_sent(self, job_id: str, dst: str, seq: str, digest: bytes) -> bytes:
        return digest  # one ledger for every party here; the replay guard is tested elsewhere


def _run(spec: VerticalJobSpec, workdir: Path, sealers: dict[str, EnvelopeSealer] | None) -> Run:
    run = Run()
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    for p in spec.parties:  # both runs start from the same weights
        fixed_secret(Workspace(workdir / p.name), JOB, p.name)
    for phase in spec.phases:
        runs = {
            p.name: PartyRun(
                program_for(spec, phase, p),
                party_context(
                    spec,
                    p.name,
                    JOB,
                    phase,
                    channel=run.hub.channel(p.name, sealers[p.name] if sealers else None),
                    workspace=Workspace(workdir / p.name),
                    reporter=run,
                    ledger=run,
                    data=datasets[p.name],
                ),
            )
            for p in spec.parties
        }
        run_phase(run.hub, JOB, runs)
    return run


def test_sealed_simulation_equals_the_unsealed_one_and_hides_every_body(tmp_path: Path) -> None:
    spec = vertical(load_job(SAMPLE))
    spec = spec.model_copy(update={"train": spec.train.model_copy(update={"epochs": 2})})
    names = tuple(p.name for p in spec.parties)
    fed = federation(tmp_path, names)
    sealers: dict[str, EnvelopeSealer] = {n: fed.admitted(n, (JOB,)) for n in names}
    plain = _run(spec, tmp_path / "plain", None)
    sealed = _run(spec, tmp_path / "sealed", sealers)

    assert sealed.metrics and sealed.metrics == plain.metrics
    assert len(sealed.hub.posted) == len(plain.hub.posted) > 20
    assert {e.sealing for e in sealed.entries} == {SEALING_NAME}
    assert {e.sealing for e in plain.entries} == {"none"}
    guesses = coordinator_keys(fed.statements, JOB, SPEC_JSON)
    for envelope, original in zip(sealed.hub.posted, plain.hub.posted, strict=True):
        assert (envelope.seq, envelope.kind) == (original.seq, original.kind)
        assert original.body not in envelope.body or not original.body
        aad = associated_data(envelope)
        assert not opens_with_any(guesses, envelope.body, aad)
        genuine = true_key(fed, JOB, envelope.src, envelope.dst, SPEC_JSON)
        assert opens_with_any([genuine], envelope.body, aad)
    ciphertext = b"".join(ciphertext_of(e.body) for e in sealed.hub.posted)
    plaintext = b"".join(e.body for e in plain.hub.posted)
    assert chi_square(ciphertext) < CHI2_LIMIT
    assert chi_square(plaintext) > 10 * CHI2_LIMIT  # the test tells real bodies apart


@pytest.mark.parametrize("size", [1 << 12, 1 << 16])
def test_chi_square_limit_accepts_random_bytes(size: int) -> None:
    assert chi_square(os.urandom(size)) < CHI2_LIMIT
