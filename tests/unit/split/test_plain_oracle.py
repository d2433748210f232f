"""The plain split model is the centralized model, cut in pieces.

Same initial weights, same batches → the same per-step losses and final weights as one
PyTorch model trained on the joined columns. The oracle below is written independently:
one nn.Module over the concatenated columns, one optimizer, a textbook loop.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.algorithms.split.initial_weights import feature_half, init_generator, label_half
from vfl.algorithms.split.label_model import LabelHolderModel
from vfl.algorithms.split.models import build_bottom
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.api import simulate
from vfl.config.job_spec import VerticalJobSpec
from vfl.runtime.events import Event, StepReport
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.workspace import Workspace

TOLERANCE = 1e-6
LOSS_ULPS = 4 * float(np.finfo(np.float32).eps)
"""Losses are float32 and reach ~116 in the regression case, where one ulp is 7.6e-6: an
absolute 1e-6 there demands bit-identical sums, which torch's threaded reductions do not
promise. Losses are compared to within 4 ulps relative, on top of TOLERANCE."""


class Centralized(nn.Module):
    """All parties' columns in one table; bottoms over column slices; one interactive layer.

    The interactive layer is stored as one weight block per party's slice and summed block
    by block: the same linear map as `cat(a) @ W`, but float32 addition is not associative,
    and Adam's per-element normalisation turns last-bit differences in near-zero gradients
    into ~1e-6 weight differences within a few steps. Summing in the split model's order
    keeps the comparison about the protocol, not about rounding.
    """

    def __init__(
        self,
        bottoms: list[nn.Module],
        slices: list[slice],
        blocks: list[torch.Tensor],
        b: torch.Tensor,
        top: nn.Module,
    ) -> None:
        super().__init__()
        self.bottoms = nn.ModuleList(bottoms)
        self.slices = slices
        self.blocks = nn.ParameterList([nn.Parameter(w.clone()) for w in blocks])
        self.b = nn.Parameter(b.clone())
        self.top = top

    @property
    def w(self) -> torch.Tensor:
        return torch.cat([w.detach() for w in self.blocks])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.bottoms[0](x[:, self.slices[0]]) @ self.blocks[0] + self.b
        for bottom, cols, w in zip(self.bottoms[1:], self.slices[1:], self.blocks[1:], strict=True):
            z = z + bottom(x[:, cols]) @ w
        out: torch.Tensor = self.top(z)
        return out


class StepLog:
    def __init__(self) -> None:
        self.losses: list[float] = []

    def report(self, party: str, event: Event) -> None:
        if isinstance(event, StepReport):
            self.losses.append(event.loss)


def _fixed(paths: dict[str, Path]) -> dict[str, bytes]:
    """Fixed party secrets: the run is reproducible, not a draw of fresh secrets each time."""
    return {n: hashlib.sha256(n.encode()).digest() for n in paths}


def _joined(paths: dict[str, Path]) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype={"id": str}).set_index("id") for p in paths.values()]
    joined = frames[0]
    for f in frames[1:]:
        joined = joined.join(f, how="inner")
    return joined.sort_index()  # the join protocol's agreed order


def _oracle_run(
    spec: VerticalJobSpec, paths: dict[str, Path], secrets: dict[str, PartySecret]
) -> tuple[list[float], Centralized]:
    joined = _joined(paths)
    names = list(paths)
    columns = [[c for c in joined.columns if c.startswith(f"{n}_f")] for n in names]
    x = torch.tensor(joined[[c for cols in columns for c in cols]].to_numpy(np.float32))
    y_raw = joined["y"].to_numpy(np.float64)
    schedule = BatchSchedule(
        len(joined), spec.train.batch_size, spec.train.validation_fraction, spec.job.seed
    )
    codec = LabelCodec.fit(spec.model.task, y_raw, schedule.train_rows, "oracle", False)
    y = codec.encode(y_raw)
    # Initial weights: the builders every party uses, from the run's party secrets, so both
    # runs start equal; each peer's interactive slice is the sum of its two halves.
    built = [
        build_bottom(spec, len(c), init_generator(secrets[n], "bottom"))
        for n, c in zip(names, columns, strict=True)
    ]
    bottoms = [b for b, _ in built]
    widths = {n: d for n, (_, d) in zip(names, built, strict=True)}
    peers = {n: widths[n] for n in names[1:]}
    label = LabelHolderModel(spec, secrets[names[0]], len(columns[0]), peers, codec.outputs)
    blocks = [label.own.weight.detach()]
    fan_in = label.own.weight.shape[0] + sum(peers.values())
    for name, d in peers.items():
        u = label.u
        mine = label_half(secrets[names[0]], name, d, u, fan_in)
        blocks.append(mine + feature_half(secrets[name], d, u, fan_in))
    bounds = np.cumsum([0] + [len(c) for c in columns])
    slices = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
    model = Centralized(
        [label.bottom, *bottoms[1:]], slices, blocks, label.bias.detach(), label.top
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.train.learning_rate)
    losses = []
    for epoch in range(spec.train.epochs):
        for rows in schedule.train_batches(epoch):
            optimizer.zero_grad()
            loss = codec.loss(model(x[rows]), y[rows])
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            losses.append(loss.item())
    return losses, model


@pytest.mark.parametrize(
    ("widths", "task", "kind"),
    [
        ({"bank": 4, "shop": 3}, "binary", "split_nn"),
        ({"bank": 3, "shop": 2, "telco": 4}, "binary", "split_nn"),
        ({"bank": 3, "shop": 4}, "multiclass", "split_nn"),
        ({"bank": 3, "shop": 4}, "binary", "logistic_regression"),
        ({"bank": 2, "shop": 3}, "regression", "linear_regression"),
    ],
)
def test_split_training_equals_centralized_model(
    tmp_path: Path, widths: dict[str, int], task: str, kind: str
) -> None:
    paths = synthetic_vertical(tmp_path, widths, rows=200, task=task, drop=0.1)
    spec = job_spec(
        job_dict(
            paths, model={"task": task, "kind": kind}, train={"epochs": 3, "standardize": False}
        )
    )
    log = StepLog()
    result = simulate(
        spec, workdir=tmp_path / "run", reporter=log, job_id="oracle", party_secrets=_fixed(paths)
    )
    assert result.status == "succeeded", result.error

    secrets = {
        n: PartySecret.for_spec(Workspace(tmp_path / "run" / n), result.job_id, n, spec)
        for n in paths
    }
    expected_losses, oracle = _oracle_run(spec, paths, secrets)
    assert len(log.losses) == len(expected_losses) > 10
    np.testing.assert_allclose(log.losses, expected_losses, rtol=LOSS_ULPS, atol=TOLERANCE)

    names = list(paths)
    label_state = torch.load(
        tmp_path / "run" / names[0] / "model" / "weights.pt", weights_only=True
    )["model"]
    w_split = torch.cat(
        [label_state["own.weight"]] + [label_state[f"sides.{n}.block.weight"] for n in names[1:]]
    )
    torch.testing.assert_close(w_split, oracle.w, rtol=0, atol=TOLERANCE)
    torch.testing.assert_close(label_state["bias"], oracle.b.detach(), rtol=0, atol=TOLERANCE)
    for k, name in enumerate(names[1:], start=1):
        bottom = torch.load(tmp_path / "run" / name / "model" / "weights.pt", weights_only=True)[
            "bottom"
        ]
        for key, value in oracle.bottoms[k].state_dict().items():
            torch.testing.assert_close(bottom[key], value, rtol=0, atol=TOLERANCE)
    for key, value in oracle.top.state_dict().items():
        torch.testing.assert_close(label_state[f"top.{key}"], value, rtol=0, atol=TOLERANCE)


def test_oracle_detects_a_different_model(tmp_path: Path) -> None:
    """The comparison above can fail: another seed gives other losses."""
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 3}, rows=120)
    spec = job_spec(job_dict(paths, train={"standardize": False}))
    other = job_spec(
        job_dict(paths, job={"name": "other", "seed": 8}, train={"standardize": False})
    )
    log = StepLog()
    result = simulate(other, workdir=tmp_path / "run", reporter=log)
    secrets = {
        n: PartySecret.for_spec(Workspace(tmp_path / "run" / n), result.job_id, n, other)
        for n in paths
    }  # the run's own initial weights: only the seed (batches, split) differs
    expected, _ = _oracle_run(spec, paths, secrets)
    assert not np.allclose(log.losses, expected, atol=TOLERANCE)
