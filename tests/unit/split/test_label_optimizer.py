"""With Adam and momentum, the label holder trains the peers' slices by SGD with momentum.

That is what makes a plain job the twin of a Paillier one (label_optimizer.py); with
momentum 0 every layer keeps the configured optimizer, as before momentum existed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from tests.factories import job_dict, job_spec
from vfl.algorithms.split.label_optimizer import LabelOptimizer


@pytest.mark.parametrize(
    ("train", "main", "slices"),
    [
        ({"optimizer": "adam", "momentum": 0.9}, torch.optim.Adam, torch.optim.SGD),
        ({"optimizer": "adam"}, torch.optim.Adam, None),
        ({"optimizer": "sgd", "momentum": 0.9}, torch.optim.SGD, None),
    ],
    ids=["adam-with-momentum", "adam", "sgd-with-momentum"],
)
def test_slices_get_sgd_with_momentum_only_under_adam_with_momentum(
    train: dict[str, object], main: type, slices: type | None
) -> None:
    spec = job_spec(job_dict({"bank": Path("a.csv"), "shop": Path("b.csv")}, train=train))
    own, peer = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(3))
    optimizer = LabelOptimizer(spec, [own, peer], [peer])
    assert type(optimizer.main) is main
    held = [p for group in optimizer.main.param_groups for p in group["params"]]
    if slices is None:
        assert optimizer.slices is None and len(held) == 2
        return
    assert optimizer.slices is not None and type(optimizer.slices) is slices
    assert held == [own]
    assert optimizer.slices.param_groups[0]["momentum"] == 0.9
    assert set(optimizer.state()) == {"optimizer", "slice_optimizer"}
