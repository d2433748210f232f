"""The cut-layer exchange between the label holder and one feature holder.

The protection mode decides how `a_p·W_p` is computed without the wrong side learning
too much; the programs do not care which. `PlainLabelSide` / `PlainFeatureSide` send the
activations and their gradient in plaintext (`protection = "none"`).
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn

from vfl.algorithms.split.messages import Activations, CutGradient
from vfl.algorithms.split.models import InteractiveBlock
from vfl.protocol.checks import expect_shape
from vfl.runtime.context import PartyContext


class LabelSide(Protocol):
    """L's end with one feature holder: yields z_p = a_p·W_p, then trains W_p."""

    peer: str

    def forward_batch(self, ctx: PartyContext, rows: int, training: bool) -> torch.Tensor:
        """This batch's contribution z_p (B×u); with `training`, a tensor autograd reaches."""
        ...

    def backward_batch(self, ctx: PartyContext) -> None:
        """After `loss.backward()`: send what F needs to back-propagate."""
        ...


class FeatureSide(Protocol):
    """F's end: hands over its bottom output, gets back ∂loss/∂a."""

    def forward_batch(self, ctx: PartyContext, a: torch.Tensor, training: bool) -> None: ...

    def backward_batch(self, ctx: PartyContext, rows: int) -> torch.Tensor: ...


class PlainLabelSide(nn.Module):
    def __init__(self, peer: str, block: InteractiveBlock) -> None:
        super().__init__()
        self.peer = peer
        self.block = block
        self._a: torch.Tensor | None = None

    def forward_batch(self, ctx: PartyContext, rows: int, training: bool) -> torch.Tensor:
        msg = ctx.recv(self.peer, Activations)
        d = self.block.weight.shape[0]
        where = f"split.Activations from {self.peer}"
        a = torch.from_numpy(expect_shape(where, msg.values, (rows, d)))
        if training:
            self._a = a.requires_grad_()
        z: torch.Tensor = self.block(a)
        return z

    def backward_batch(self, ctx: PartyContext) -> None:
        assert self._a is not None and self._a.grad is not None, "forward_batch(training) first"
        ctx.send(self.peer, CutGradient(self._a.grad.numpy()))
        self._a = None


class PlainFeatureSide:
    def __init__(self, label_holder: str, width: int) -> None:
        self.label_holder = label_holder
        self.width = width

    def forward_batch(self, ctx: PartyContext, a: torch.Tensor, training: bool) -> None:
        ctx.send(self.label_holder, Activations(a.detach().numpy()))

    def backward_batch(self, ctx: PartyContext, rows: int) -> torch.Tensor:
        msg = ctx.recv(self.label_holder, CutGradient)
        where = f"split.CutGradient from {self.label_holder}"
        return torch.from_numpy(expect_shape(where, msg.values, (rows, self.width)))
