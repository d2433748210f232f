"""Plain FTL is the one-process model of the same losses, cut between two parties.

The oracle below is written independently of the programs: both networks in one place,
the loss of Liu et al. written out (Φ = Ỹᵀu_A/n, logistic or softmax loss of u_B·Φᵀ,
γ·mean‖u_A − u_B‖², L2 as an explicit penalty), one optimizer, a textbook loop. Only
the network builder and its initial weights (from the run's party secrets) and the batch
schedule are shared, as in the split oracle. With local_rounds = k > 1 the oracle applies
the documented definition (docs/transfer.md): the source steps k times with u_B held, the
target k times along the ∂L/∂u_B it received.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.algorithms.transfer.model import build_representation, init_generator
from vfl.api import simulate
from vfl.config.job_spec import TransferJobSpec
from vfl.runtime.events import Event, StepReport
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.workspace import Workspace

TOLERANCE = 1e-6


class StepLog:
    def __init__(self) -> None:
        self.losses: list[float] = []

    def report(self, party: str, event: Event) -> None:
        if isinstance(event, StepReport):
            self.losses.append(event.loss)


def _loss(
    task: str, u_a: torch.Tensor, u_b: torch.Tensor, y: torch.Tensor, gamma: float
) -> torch.Tensor:
    n = u_a.shape[0]
    if task == "binary":
        signed = (2 * y - 1).reshape(-1, 1).to(torch.float32)  # ±1
        phi = signed.T @ u_a / n  # 1×d
        s = u_b @ phi.T
        prediction = nn.functional.softplus(-signed * s).mean()  # log(1 + e^{−ỹs})
    else:
        onehot = nn.functional.one_hot(y, 3).to(torch.float32)  # the factory's 3 classes
        phi = onehot.T @ u_a / n  # K×d
        s = u_b @ phi.T
        prediction = -torch.log_softmax(s, dim=1)[torch.arange(n), y].mean()
    return prediction + gamma * ((u_a - u_b) ** 2).sum(dim=1).mean()


def _penalty(net: nn.Module, weight_decay: float) -> torch.Tensor:
    return weight_decay / 2 * sum((p**2).sum() for p in net.parameters())  # type: ignore[return-value]


def _oracle(
    spec: TransferJobSpec, paths: dict[str, Path], secrets: dict[str, PartySecret]
) -> tuple[list[float], nn.Module, nn.Module]:
    source = pd.read_csv(paths["source"], dtype={"id": str}).set_index("id")
    target = pd.read_csv(paths["target"], dtype={"id": str}).set_index("id")
    joined = source.join(target, how="inner").sort_index()  # the agreed order
    xa = torch.tensor(joined[[c for c in source.columns if c != "y"]].to_numpy(np.float32))
    xb = torch.tensor(joined[list(target.columns)].to_numpy(np.float32))
    y = torch.tensor(joined["y"].to_numpy(np.int64))
    net_a = build_representation(spec, xa.shape[1], init_generator(secrets["source"], "source"))
    net_b = build_representation(spec, xb.shape[1], init_generator(secrets["target"], "target"))
    t = spec.train
    schedule = BatchSchedule(len(joined), t.batch_size, t.validation_fraction, spec.job.seed)
    task, gamma, wd, k = spec.model.task, t.alignment_weight, t.weight_decay, t.local_rounds
    opt_a = torch.optim.Adam(net_a.parameters(), lr=t.learning_rate)
    opt_b = torch.optim.Adam(net_b.parameters(), lr=t.learning_rate)
    losses = []
    for epoch in range(t.epochs):
        for rows in schedule.train_batches(epoch):
            if k == 1:  # one model, one backward: joint gradient descent
                opt_a.zero_grad()
                opt_b.zero_grad()
                loss = _loss(task, net_a(xa[rows]), net_b(xb[rows]), y[rows], gamma)
                losses.append(loss.item())
                (loss + _penalty(net_a, wd) + _penalty(net_b, wd)).backward()  # type: ignore[no-untyped-call]
                opt_a.step()
                opt_b.step()
                continue
            u_b = net_b(xb[rows])
            held = u_b.detach().requires_grad_()
            grad = torch.zeros_like(held)
            for r in range(k):
                opt_a.zero_grad()
                loss = _loss(task, net_a(xa[rows]), held, y[rows], gamma)
                (loss + _penalty(net_a, wd)).backward()  # type: ignore[no-untyped-call]
                if r == 0:
                    assert held.grad is not None
                    grad = held.grad.clone()
                    losses.append(loss.item())
                held.grad = None
                opt_a.step()
            for r in range(k):
                opt_b.zero_grad()
                out = u_b if r == 0 else net_b(xb[rows])
                ((out * grad).sum() + _penalty(net_b, wd)).backward()
                opt_b.step()
    return losses, net_a, net_b


def _fixed(names: list[str]) -> dict[str, bytes]:
    return {n: hashlib.sha256(n.encode()).digest() for n in names}


@pytest.mark.parametrize(
    ("task", "local_rounds", "optimizer"),
    [("binary", 1, "adam"), ("multiclass", 1, "adam"), ("binary", 3, "adam")],
)
def test_plain_transfer_equals_one_process_model(
    tmp_path: Path, task: str, local_rounds: int, optimizer: str
) -> None:
    paths = synthetic_transfer(tmp_path, rows=240, task=task)
    spec = transfer_spec(
        transfer_dict(
            paths,
            model={"task": task},
            train={
                "epochs": 3,
                "standardize": False,
                "local_rounds": local_rounds,
                "weight_decay": 0.01,
                "optimizer": optimizer,
            },
        )
    )
    log = StepLog()
    run = tmp_path / "run"
    result = simulate(
        spec, workdir=run, reporter=log, job_id="oracle", party_secrets=_fixed(["source", "target"])
    )
    assert result.status == "succeeded", result.error
    secrets = {
        n: PartySecret.for_spec(Workspace(run / n), result.job_id, n, spec)
        for n in ("source", "target")
    }
    expected, net_a, net_b = _oracle(spec, paths, secrets)
    assert len(log.losses) == len(expected) > 10
    np.testing.assert_allclose(log.losses, expected, rtol=0, atol=TOLERANCE)
    for name, net in (("source", net_a), ("target", net_b)):
        state = torch.load(run / name / "model" / "weights.pt", weights_only=True)["net"]
        for key, value in net.state_dict().items():
            torch.testing.assert_close(state[key], value, rtol=0, atol=TOLERANCE)


def test_oracle_detects_a_different_loss(tmp_path: Path) -> None:
    """The comparison can fail: another alignment weight gives other losses."""
    paths = synthetic_transfer(tmp_path, rows=200)
    spec = transfer_spec(transfer_dict(paths, train={"standardize": False}))
    other = transfer_spec(
        transfer_dict(paths, train={"standardize": False, "alignment_weight": 0.4})
    )
    log = StepLog()
    run = tmp_path / "run"
    result = simulate(
        other,
        workdir=run,
        reporter=log,
        job_id="oracle",
        party_secrets=_fixed(["source", "target"]),
    )
    secrets = {
        n: PartySecret.for_spec(Workspace(run / n), result.job_id, n, other)
        for n in ("source", "target")
    }
    expected, _, _ = _oracle(spec, paths, secrets)
    assert not np.allclose(log.losses, expected, atol=TOLERANCE)
