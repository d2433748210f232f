"""A Paillier transfer job (real programs, simulator, small test keys) takes the steps of
the plain job with the same Taylor loss, up to the fixed-point tolerance stated below,
and predicts at the target like a plain job.

Tolerance (docs/transfer_paillier.md, "Tolerance"): each cross sum of the exchange is
exact on factors rounded to 2^-(f+1), so a batch-mean head-gradient entry is off by at
most 2·ε·(|l| + |r|) + ε² per cross term, two cross terms per side: with ε = 2^-(f+1) and
every factor here below M = 16 (standardised features, |u|, |Q|, |α| checked small),
τ = 4·ε·2M = 2^-(f-6) per entry per step (2^-10 at f = 16). Plain SGD at rate η moves a
weight by η·g per step, and with η·Lip < 1 errors add at most linearly: after T steps every
weight is within 2·η·T·τ of the plain Taylor run's. The test also checks the weights moved
far more than that bound, so it could not pass by not training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from tests.unit.transfer.small_keys import run_transfer
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.algorithms.transfer.exchange import epoch_batches
from vfl.runtime.events import EpochReport, OutputReport
from vfl.runtime.workspace import Workspace

EPOCHS, LR, F = 3, 0.05, 16


def _spec(paths: dict[str, Path], protection: str) -> dict[str, object]:
    train: dict[str, object] = {
        "protection": protection,
        "epochs": EPOCHS,
        "batch_size": 48,  # 4(p+1) = 20 rows at least; 96 training rows: two batches
        "optimizer": "sgd",
        "learning_rate": LR,
        "weight_decay": 0.01,
        "precision_bits": F,
        "alignment_weight": 0.5,
    }
    if protection == "none":
        train["loss"] = "taylor"
    return transfer_dict(paths, model={"hidden": []}, train=train)


def _weights(workdir: Path, party: str) -> dict[str, torch.Tensor]:
    state, _ = Workspace(workdir / party).load_model()
    return {k: v.clone() for k, v in state["net"].items()}


def test_paillier_job_matches_the_plain_taylor_job_within_the_fixed_point_tolerance(
    tmp_path: Path,
) -> None:
    paths = synthetic_transfer(tmp_path, rows=300, shared=0.4)  # 120 shared, 96 to train
    runs = {}
    for protection in ("none", "paillier"):
        spec = transfer_spec(_spec(paths, protection))
        runs[protection] = run_transfer(spec, tmp_path / protection)[0]
    steps = EPOCHS * 2
    tolerance = 2 * LR * steps * 2.0 ** -(F - 6)
    for party in ("source", "target"):
        plain, secure = _weights(tmp_path / "none", party), _weights(tmp_path / "paillier", party)
        first = transfer_spec(_spec(paths, "none"))
        assert first.model.hidden == []
        for name, value in plain.items():
            gap = (secure[name] - value).abs().max().item()
            assert gap <= tolerance, (party, name, gap, tolerance)
    # the runs trained: the models moved from where they started by far more than the bound
    moved = _weights(tmp_path / "none", "target")["0.weight"]
    zero = run_transfer(
        transfer_spec(
            transfer_dict(
                paths,
                model={"hidden": []},
                train={"epochs": 1, "learning_rate": 1e-9, "optimizer": "sgd"},
            )
        ),
        tmp_path / "start",
    )
    assert zero
    start = _weights(tmp_path / "start", "target")["0.weight"]
    assert (moved - start).abs().max().item() > 20 * tolerance
    # metrics: validation scores come back from the target under paillier; same model, same AUC
    last = {
        p: [e for _, e in runs[p].events if isinstance(e, EpochReport)][-1].values for p in runs
    }
    assert "train_loss" not in last["paillier"]  # the source never sees the loss
    assert abs(last["paillier"]["validation_auc"] - last["none"]["validation_auc"]) <= 1e-3
    assert abs(last["paillier"]["validation_loss"] - last["none"]["validation_loss"]) <= 1e-3


def test_paillier_job_predicts_every_target_row_outside_the_overlap_at_the_target_only(
    tmp_path: Path,
) -> None:
    paths = synthetic_transfer(tmp_path, rows=300, shared=0.4)
    events, _ = run_transfer(transfer_spec(_spec(paths, "paillier")), tmp_path / "run")
    outputs = [(p, e) for p, e in events.events if isinstance(e, OutputReport)]
    assert [p for p, _ in outputs] == ["target"]
    scored = pd.read_csv(outputs[0][1].path, dtype={"id": str})
    source = pd.read_csv(paths["source"], dtype={"id": str})
    target = pd.read_csv(paths["target"], dtype={"id": str})
    assert sorted(scored["id"]) == sorted(set(target["id"]) - set(source["id"]))
    assert np.isfinite(scored.select_dtypes("number").to_numpy()).all()
    assert not list((tmp_path / "run" / "source").rglob("predictions*"))


def test_paillier_merges_a_short_last_batch_and_plain_does_not(tmp_path: Path) -> None:
    paths = synthetic_transfer(tmp_path)
    schedule = BatchSchedule(100, 40, 0.0, 7)
    for protection, sizes in (("paillier", [40, 60]), ("none", [40, 40, 20])):
        spec = transfer_spec(_spec(paths, protection))
        spec = spec.model_copy(update={"train": spec.train.model_copy(update={"batch_size": 40})})
        batches = epoch_batches(spec, schedule, 0)
        assert [len(b) for b in batches] == sizes
        assert sorted(np.concatenate(batches)) == list(range(100))
