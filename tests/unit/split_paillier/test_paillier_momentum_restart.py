"""With momentum, a party restarted alone mid-epoch still re-sends byte-identical messages.

The velocity shares are training state like V and acc: each side's lives in its epoch
checkpoint (L: `velocity` beside the model, F: its side's state), so the replayed batches
of epoch 1 start from the same velocity as the first time. A side that lost it would
step V or acc differently on the replayed batches, and its next F2/F3 (built from V or
acc) would differ from what its peer already holds. Same harness and checks as
test_paillier_single_restart.py, on the logistic preset, whose interactive slice is the
whole model (so every step moves it).
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import run_job
from tests.unit.split_paillier.restart_harness import CountingKeygen, RestartRun, run_with_restart
from vfl.config.job_spec import VerticalJobSpec

L, F = "bank", "shop"
CRASH_AT = "train/epoch=1/batch=2#0"


def _spec(tmp: Path) -> VerticalJobSpec:
    paths = synthetic_vertical(tmp, {L: 3, F: 4}, rows=160)
    train = {
        "protection": "paillier",
        "optimizer": "sgd",
        "learning_rate": 0.1,
        "momentum": 0.9,
        "nesterov": True,
        "workers": 1,
        "precision_bits": 20,
    }
    return job_spec(job_dict(paths, train=train, model={"kind": "logistic_regression"}))


@pytest.mark.parametrize("victim", [L, F])
def test_restart_with_momentum_resends_the_same_bytes_and_trains_the_same_model(
    tmp_path: Path, victim: str
) -> None:
    spec = _spec(tmp_path)
    reference = RestartRun()
    run_job(spec, tmp_path / "reference", run=reference)
    work = tmp_path / "restart"
    for party in (L, F):  # the reference parties' secrets and keys
        shutil.copytree(tmp_path / "reference" / party / "private", work / party / "private")
    restarted = run_with_restart(spec, work, victim, CRASH_AT, CountingKeygen())
    sent: dict[str, list[bytes]] = defaultdict(list)
    for env in restarted.hub.envelopes:
        if env.src == victim:
            sent[env.seq].append(env.body)
    replayed = {seq: bodies for seq, bodies in sent.items() if len(bodies) > 1}
    assert any(s.startswith("train/epoch=1/batch=1#") for s in replayed)
    differing = [seq for seq, (first, again) in replayed.items() if first != again]
    assert differing == [], f"{victim} re-sent different bodies for {differing}"
    assert restarted.steps == reference.steps and len(reference.steps) == 8
    assert restarted.metrics == reference.metrics
