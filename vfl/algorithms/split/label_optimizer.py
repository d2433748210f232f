"""The label holder's optimizer, and why the interactive slices may get one of their own.

A Paillier-protected feature holder's interactive slice W = V + acc is held by nobody, so
it trains by SGD with momentum on the shares (paillier/share_momentum.py): Adam's update
is not linear in the gradient and cannot run there. With `optimizer = "adam"` and
`momentum > 0` the plain mode does the same — Adam for the layers the label holder holds
(its bottom, own slice, bias, top), SGD with momentum for each peer's slice — so a plain
and a Paillier job of one spec compute the same function. With `momentum = 0` the plain
mode keeps Adam everywhere (its behaviour before momentum existed) and the Paillier mode
plain SGD on the slices: they differ (docs/paillier.md, "Optimizers").
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from vfl.algorithms.split.models import make_optimizer
from vfl.config.job_spec import VerticalJobSpec


class LabelOptimizer:
    """`train.optimizer` over the label holder's own layers; with Adam and momentum, SGD
    with momentum (torch.optim.SGD, the twin of share_momentum.py) over `slices`."""

    def __init__(
        self, spec: VerticalJobSpec, params: list[nn.Parameter], slices: list[nn.Parameter]
    ) -> None:
        t = spec.train
        separate = t.optimizer == "adam" and t.momentum > 0 and bool(slices)
        ids = {id(p) for p in slices} if separate else set()
        self.main = make_optimizer(spec, [p for p in params if id(p) not in ids])
        self.slices = (
            torch.optim.SGD(
                slices, lr=t.learning_rate, momentum=t.momentum, nesterov=t.nesterov, fused=True
            )
            if separate
            else None
        )

    def zero_grad(self) -> None:
        self.main.zero_grad()
        if self.slices is not None:
            self.slices.zero_grad()

    def step(self) -> None:
        self.main.step()
        if self.slices is not None:
            self.slices.step()

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"optimizer": self.main.state_dict()}
        if self.slices is not None:
            out["slice_optimizer"] = self.slices.state_dict()
        return out

    def load_state(self, saved: dict[str, Any]) -> None:
        self.main.load_state_dict(saved["optimizer"])
        if self.slices is not None:
            self.slices.load_state_dict(saved["slice_optimizer"])
