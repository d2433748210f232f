"""`simulate(..., transcript=...)` records what each party received, decoded, and nothing
else changes: the same run, loss for loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.algorithms.split.messages import Activations, CutGradient, TrainHello
from vfl.api import simulate
from vfl.runtime.events import Event, StepReport
from vfl.runtime.transcript import Transcript


class Losses:
    def __init__(self) -> None:
        self.values: list[float] = []

    def report(self, party: str, event: Event) -> None:
        if isinstance(event, StepReport):
            self.values.append(event.loss)


def test_transcript_records_every_received_message_per_party_without_changing_the_run(
    tmp_path: Path,
) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=100)
    spec = job_spec(job_dict(paths, train={"epochs": 2, "batch_size": 40}))
    transcript, with_t, without_t = Transcript(), Losses(), Losses()
    secrets = {n: bytes([i]) * 32 for i, n in enumerate(paths)}  # both runs: same weights
    simulate(
        spec,
        workdir=tmp_path / "with",
        reporter=with_t,
        transcript=transcript,
        job_id="job",
        party_secrets=secrets,
    )
    simulate(
        spec, workdir=tmp_path / "without", reporter=without_t, job_id="job", party_secrets=secrets
    )
    assert with_t.values == without_t.values and len(with_t.values) == 4

    to_shop = transcript.received("shop")
    gradients = [r for r in to_shop if isinstance(r.message, CutGradient)]
    assert [r.scope for r in gradients] == [
        f"train/epoch={e}/batch={b}" for e in range(2) for b in range(2)
    ]
    assert all(r.sender == "bank" and r.kind == "CutGradient" for r in gradients)
    assert all(r.seq == f"{r.scope}#0" for r in gradients)
    to_bank = transcript.received("bank")
    assert {type(r.message) for r in to_bank} >= {TrainHello, Activations}
    assert all(r.kind == type(r.message).__name__ for r in to_bank + to_shop)
    first = transcript.messages("bank", Activations)[0][1]
    assert isinstance(first.values, np.ndarray) and first.values.shape[0] == 40
