"""The cut-layer exchange between the label holder and one feature holder.

The protection mode decides how `a_p·W_p` is computed without the wrong side learning
too much; the programs do not care which. `PlainLabelSide` / `PlainFeatureSide` send the
activations and their gradient in plaintext (`protection = "none"`); the Paillier sides
live in `vfl/algorithms/split/paillier/`.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn

from vfl.algorithms.split.initial_weights import feature_half, label_half
from vfl.algorithms.split.messages import (
    Activations,
    CutGradient,
    InteractiveShape,
    InteractiveShare,
)
from vfl.algorithms.split.models import InteractiveBlock
from vfl.errors import ProtocolError
from vfl.privacy.label_dp import LabelDP
from vfl.protocol.checks import expect_shape
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import PartySecret


class LabelSide(Protocol):
    """L's end with one feature holder: yields z_p = a_p·W_p, then trains W_p."""

    peer: str

    def start(self, ctx: PartyContext) -> None:
        """Once per phase, before the first batch, in a fixed scope (not a batch's), so a
        program restarted mid-phase repeats it under the same sequence numbers."""
        ...

    def initial_share(self, ctx: PartyContext) -> None:
        """Training only, in a fixed scope: set W_p's starting value from this party's half
        and the peer's share (initial_weights.py)."""
        ...

    def forward_batch(self, ctx: PartyContext, rows: int, training: bool) -> torch.Tensor:
        """This batch's contribution z_p (B×u); with `training`, a tensor autograd reaches."""
        ...

    def backward_batch(self, ctx: PartyContext) -> None:
        """After `loss.backward()`: make sure F has what it needs to back-propagate."""
        ...


class FeatureSide(Protocol):
    """F's end: hands over its bottom output, gets back ∂loss/∂a."""

    def start(self, ctx: PartyContext) -> None:
        """Once per phase, after `load_state`, in a fixed scope (see LabelSide.start)."""
        ...

    def initial_share(self, ctx: PartyContext, fresh: bool) -> None:
        """Training only, after `start`: send this party's share of W₀; keep the matching
        state unless a checkpoint was loaded (`fresh` is False)."""
        ...

    def forward_batch(self, ctx: PartyContext, a: torch.Tensor, training: bool) -> None: ...

    def backward_batch(self, ctx: PartyContext, rows: int) -> torch.Tensor: ...

    def state(self) -> dict[str, torch.Tensor]:
        """What this side must checkpoint and publish with the bottom model."""
        ...

    def load_state(self, state: dict[str, torch.Tensor]) -> None: ...

    def close(self) -> None: ...


class PlainLabelSide(nn.Module):
    """Sends ∂loss/∂a from an autograd hook, the moment backward reaches the cut layer.

    F's backward then overlaps the rest of L's backward and its optimizer step, instead of
    waiting for them. Without label-DP the hook sits on `a` and sends autograd's own
    `a.grad` = δ·W_pᵀ, exactly what the centralized model computes. With label-DP it sits
    on z_p = a·W_p, where δ is, and sends δ̃·W_pᵀ with δ̃ = `label_dp.release(δ)` (the
    same δ̃ every feature holder gets for the batch); W_p itself still trains on the exact
    gradient aᵀδ, which autograd computes as usual.
    """

    def __init__(
        self, peer: str, d: int, u: int, fan_in: int, label_dp: LabelDP | None = None
    ) -> None:
        super().__init__()
        self.peer = peer
        self.fan_in = fan_in
        self.block = InteractiveBlock.shared(d, u)
        self.label_dp = label_dp
        self._sent = True
        self._secret: PartySecret | None = None

    def start(self, ctx: PartyContext) -> None:
        self._secret = PartySecret.of(ctx)  # once per phase, not per batch

    def initial_share(self, ctx: PartyContext) -> None:
        d, u = self.block.weight.shape
        ctx.send(self.peer, InteractiveShape(u, self.fan_in))
        share = ctx.recv(self.peer, InteractiveShare)
        where = f"split.InteractiveShare from {self.peer}"
        theirs = torch.from_numpy(expect_shape(where, share.values, (d, u)))
        half = label_half(PartySecret.of(ctx), self.peer, d, u, self.fan_in)
        with torch.no_grad():
            self.block.weight.copy_(half + theirs)

    def forward_batch(self, ctx: PartyContext, rows: int, training: bool) -> torch.Tensor:
        msg = ctx.recv(self.peer, Activations)
        d = self.block.weight.shape[0]
        where = f"split.Activations from {self.peer}"
        a = torch.from_numpy(expect_shape(where, msg.values, (rows, d)))
        if training and self.label_dp is None:
            a.requires_grad_()
            a.register_hook(lambda grad: self._send_gradient(ctx, grad))  # type: ignore[no-untyped-call]
        z: torch.Tensor = self.block(a)
        if training and self.label_dp is not None:
            z.register_hook(lambda delta: self._send_private(ctx, delta))  # type: ignore[no-untyped-call]
        self._sent = not training
        return z

    def _send_private(self, ctx: PartyContext, delta: torch.Tensor) -> None:
        assert self.label_dp is not None and self._secret is not None, "start() first"
        noisy = self.label_dp.release(delta.numpy(), self._secret, ctx.scope)
        released = torch.from_numpy(noisy).float()
        self._send_gradient(ctx, released @ self.block.weight.detach().T)

    def _send_gradient(self, ctx: PartyContext, grad: torch.Tensor) -> None:
        ctx.send(self.peer, CutGradient(grad.numpy()))
        self._sent = True

    def backward_batch(self, ctx: PartyContext) -> None:
        assert self._sent, "loss.backward() must reach every feature holder's activations"


class PlainFeatureSide:
    """F's end in plaintext: sends activations, receives ∂loss/∂a."""

    def __init__(self, label_holder: str, width: int) -> None:
        self.label_holder = label_holder
        self.width = width

    def start(self, ctx: PartyContext) -> None:
        pass

    def initial_share(self, ctx: PartyContext, fresh: bool) -> None:
        """Send W_F in the clear: under `none` L holds W_p (and sees a) anyway."""
        shape = ctx.recv(self.label_holder, InteractiveShape)
        if not (1 <= shape.u <= 4096 and 1 <= shape.fan_in <= 1 << 20):
            raise ProtocolError(
                f"split.InteractiveShape from {self.label_holder}: u = {shape.u}, fan_in = "
                f"{shape.fan_in} out of range; both sides must run the same job spec"
            )
        half = feature_half(PartySecret.of(ctx), self.width, shape.u, shape.fan_in)
        ctx.send(self.label_holder, InteractiveShare(half.numpy()))

    def forward_batch(self, ctx: PartyContext, a: torch.Tensor, training: bool) -> None:
        ctx.send(self.label_holder, Activations(a.detach().numpy()))

    def backward_batch(self, ctx: PartyContext, rows: int) -> torch.Tensor:
        msg = ctx.recv(self.label_holder, CutGradient)
        where = f"split.CutGradient from {self.label_holder}"
        return torch.from_numpy(expect_shape(where, msg.values, (rows, self.width)))

    def state(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        pass

    def close(self) -> None:
        pass
