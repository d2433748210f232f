"""Paillier exchange (`protection = "paillier"`): the seam's sides over paillier/.

Each train batch is one run of the Taylor-loss exchange of paillier/ (each party's key,
masked head gradients): the exchange returns the exact gradient of the batch's summed
Taylor loss for the party's *head* (u = h·W + b), which this side divides by the batch's
rows (the plain loss is a mean, so a plain Taylor job and this one take the same steps)
and hands to the party's optimizer (which adds weight_decay, the L2 term, itself).

What the programs must meet, enforced by protections.py before any data is read:
`model.hidden = []` (the representation *is* the head, so its whole gradient is exact:
layers below the head would get no federated gradient, per-row ∂L/∂u would reveal the
peer's u), binary, `local_rounds = 1` (the exchange returns a gradient, not a function to
re-evaluate: k steps on the same gradient are one step k times as long), and batches of
4(p+1) rows or more (epoch_batches merges a short last one).

Scoring (validation, evaluate) goes the other way round from plain: S sends Φ, T sends
back its rows' scores u_B·Φᵀ (messages.py says what each reveals).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vfl.algorithms.split.paillier.phase_keys import phase_keypair
from vfl.algorithms.transfer import paillier
from vfl.algorithms.transfer.exchange import (
    KeyPolicy,
    SourceBatch,
    SourceSide,
    TargetBatch,
    TargetSide,
)
from vfl.algorithms.transfer.messages import Scores, ScoringSummary
from vfl.algorithms.transfer.paillier.exchange_side import ExchangeSide, HeadGradient
from vfl.algorithms.transfer.plain import eval_sizes
from vfl.config.job_spec import TransferJobSpec
from vfl.crypto.keys import MIN_KEY_BITS
from vfl.errors import ProtocolError
from vfl.protocol.checks import expect_shape
from vfl.runtime.context import PartyContext


def _head(net: nn.Module) -> tuple[nn.Module, nn.Linear]:
    """(layers below the head, the head); with hidden = [] the first is the identity."""
    assert isinstance(net, nn.Sequential) and isinstance(net[-1], nn.Linear)
    return net[:-1], net[-1]


def _step(
    batch_net: nn.Module, optimizer: torch.optim.Optimizer, grad: HeadGradient, rows: int
) -> None:
    """One optimizer step along the batch's mean-loss head gradient (summed / rows)."""
    _, head = _head(batch_net)
    optimizer.zero_grad()
    head.weight.grad = torch.from_numpy(grad.weight.T / rows).to(head.weight.dtype).contiguous()
    assert head.bias is not None
    head.bias.grad = torch.from_numpy(grad.bias / rows).to(head.bias.dtype)
    optimizer.step()


class _Exchange:
    """The paillier/ side of one party, made (with the phase's key pair) in `start`."""

    def __init__(self, spec: TransferJobSpec, peer: str) -> None:
        self.spec = spec
        self.peer = peer
        self._side: ExchangeSide | None = None

    def start(self, ctx: PartyContext, keys: KeyPolicy, cls: type[ExchangeSide]) -> None:
        t = self.spec.train
        pair = phase_keypair(ctx.workspace, ctx.job_id, "train", t.key_bits, keys.keygen)
        # the spec's key size, not just the floor: the peer must not quietly use less
        floor = keys.min_key_bits
        side = cls(
            self.peer,
            pair,
            width=self.spec.model.representation_width,
            max_rows=2 * t.batch_size,  # epoch_batches merges a short last batch
            alignment_weight=t.alignment_weight,
            precision_bits=t.precision_bits,
            min_key_bits=floor if floor < MIN_KEY_BITS else max(floor, t.key_bits),
        )
        self._side = side
        side.start(ctx)

    def side(self) -> ExchangeSide:
        if self._side is None:
            raise ProtocolError("transfer paillier: a train batch before the exchange started")
        return self._side

    def close(self) -> None:
        if self._side is not None:
            self._side.close()


class PaillierSourceSide(SourceSide):
    def __init__(self, spec: TransferJobSpec, target: str) -> None:
        self.target = target
        self.exchange = _Exchange(spec, target)

    def start(self, ctx: PartyContext, keys: KeyPolicy) -> None:
        self.exchange.start(ctx, keys, paillier.SourceSide)

    def train_batch(self, ctx: PartyContext, batch: SourceBatch) -> float | None:
        side = self.exchange.side()
        assert isinstance(side, paillier.SourceSide)
        body, head = _head(batch.net)
        with torch.no_grad():
            h = body(batch.x).double().numpy()
            u = head(body(batch.x)).double().numpy()
        y = 2 * batch.labels.double().numpy().ravel() - 1
        rows = len(y)
        summary = paillier.ClassSummary.of_rows(h, u, y / rows)
        grad = side.exchange(ctx, h, u, y, summary)
        _step(batch.net, batch.optimizer, grad, rows)
        return None  # the loss needs per-row φ_i, which the source never sees

    def scores(self, ctx: PartyContext, summary: torch.Tensor, rows: int) -> torch.Tensor:
        ctx.send(self.target, ScoringSummary(summary.detach().numpy().astype(np.float32)))
        out = []
        for k, size in enumerate(eval_sizes(rows)):
            msg = ctx.scoped(batch=k).recv(self.target, Scores)
            where = f"transfer.Scores from {self.target}"
            values = expect_shape(where, msg.values, (size, summary.shape[0]))
            out.append(torch.from_numpy(values.copy()))
        return torch.cat(out) if out else torch.zeros(0, summary.shape[0])

    def close(self) -> None:
        self.exchange.close()


class PaillierTargetSide(TargetSide):
    def __init__(self, spec: TransferJobSpec, source: str) -> None:
        self.source = source
        self.width = spec.model.representation_width
        self.exchange = _Exchange(spec, source)

    def start(self, ctx: PartyContext, keys: KeyPolicy) -> None:
        self.exchange.start(ctx, keys, paillier.TargetSide)

    def train_batch(self, ctx: PartyContext, batch: TargetBatch) -> None:
        side = self.exchange.side()
        assert isinstance(side, paillier.TargetSide)
        body, head = _head(batch.net)
        with torch.no_grad():
            h = body(batch.x)
            u = head(h)
        grad = side.exchange(ctx, h.double().numpy(), u.double().numpy())
        _step(batch.net, batch.optimizer, grad, len(batch.x))

    def serve_scores(self, ctx: PartyContext, u_b: torch.Tensor) -> None:
        msg = ctx.recv(self.source, ScoringSummary)
        summary = expect_shape(
            f"transfer.ScoringSummary from {self.source}", msg.summary, (1, self.width)
        )
        values = (u_b.detach().double().numpy() @ summary.T.astype(np.float64)).astype(np.float32)
        start = 0
        for k, size in enumerate(eval_sizes(len(values))):
            ctx.scoped(batch=k).send(self.source, Scores(values[start : start + size]))
            start += size

    def close(self) -> None:
        self.exchange.close()
