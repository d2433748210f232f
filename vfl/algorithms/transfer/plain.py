"""Plaintext exchange (`protection = "none"`): u_B to the source, ∂L/∂u_B back.

`local_rounds = k` (the paper's communication-efficient mode): one exchange per batch,
then k optimizer steps at each party. The source steps on the full loss with the
target's u_B held at the value it received (Net_A re-run each step); the target steps
along the gradient it received, ⟨∂L/∂u_B, Net_B(x)⟩ with ∂L/∂u_B held (Net_B re-run each
step). k = 1 is exact gradient descent on L: the gradient leaves the source before it
steps, so both steps use the same parameters.
"""

from __future__ import annotations

import numpy as np
import torch

from vfl.algorithms.split.schedule import EVAL_BATCH
from vfl.algorithms.transfer.exchange import (
    SourceBatch,
    SourceSide,
    TargetBatch,
    TargetSide,
)
from vfl.algorithms.transfer.messages import RepresentationGradient, Representations
from vfl.config.job_spec import TransferJobSpec
from vfl.protocol.checks import expect_shape
from vfl.runtime.context import PartyContext


def eval_sizes(rows: int) -> list[int]:
    """Rows per forward-only message, as both parties cut them."""
    return [min(EVAL_BATCH, rows - i) for i in range(0, rows, EVAL_BATCH)]


class PlainSourceSide(SourceSide):
    def __init__(self, spec: TransferJobSpec, target: str) -> None:
        self.target = target
        self.width = spec.model.representation_width

    def _recv(self, ctx: PartyContext, rows: int) -> torch.Tensor:
        msg = ctx.recv(self.target, Representations)
        where = f"transfer.Representations from {self.target}"
        return torch.from_numpy(expect_shape(where, msg.values, (rows, self.width)).copy())

    def train_batch(self, ctx: PartyContext, batch: SourceBatch) -> float:
        u_b = self._recv(ctx, len(batch.x)).requires_grad_()
        at_exchange = 0.0
        for round_ in range(batch.local_rounds):
            batch.optimizer.zero_grad()
            loss = batch.loss(u_b)
            loss.backward()  # type: ignore[no-untyped-call]
            if round_ == 0:
                assert u_b.grad is not None
                ctx.send(self.target, RepresentationGradient(u_b.grad.numpy()))
                at_exchange = loss.item()
            u_b.grad = None
            batch.optimizer.step()
        return at_exchange

    def scores(self, ctx: PartyContext, summary: torch.Tensor, rows: int) -> torch.Tensor:
        out = []
        for k, size in enumerate(eval_sizes(rows)):
            out.append(self._recv(ctx.scoped(batch=k), size) @ summary.T)
        return torch.cat(out) if out else torch.zeros(0, summary.shape[0])


class PlainTargetSide(TargetSide):
    def __init__(self, spec: TransferJobSpec, source: str) -> None:
        self.source = source
        self.width = spec.model.representation_width

    def train_batch(self, ctx: PartyContext, batch: TargetBatch) -> None:
        u_b = batch.forward()
        ctx.send(self.source, Representations(u_b.detach().numpy()))
        msg = ctx.recv(self.source, RepresentationGradient)
        where = f"transfer.RepresentationGradient from {self.source}"
        grad = torch.from_numpy(expect_shape(where, msg.values, tuple(u_b.shape)).copy())
        for round_ in range(batch.local_rounds):
            batch.optimizer.zero_grad()
            (u_b if round_ == 0 else batch.forward()).backward(grad)  # type: ignore[no-untyped-call]
            batch.optimizer.step()

    def serve_scores(self, ctx: PartyContext, u_b: torch.Tensor) -> None:
        values = u_b.detach().numpy().astype(np.float32)
        start = 0
        for k, size in enumerate(eval_sizes(len(values))):
            ctx.scoped(batch=k).send(self.source, Representations(values[start : start + size]))
            start += size
