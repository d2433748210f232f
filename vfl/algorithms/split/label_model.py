"""The label holder's part of a split model: own bottom, interactive layer, top."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from vfl.algorithms.split.exchange import LabelSide, PlainLabelSide
from vfl.algorithms.split.initial_weights import init_generator
from vfl.algorithms.split.messages import INIT_STEP
from vfl.algorithms.split.models import (
    InteractiveBlock,
    build_bottom,
    build_top,
    interactive_width,
    is_preset,
)
from vfl.algorithms.split.paillier.label_side import PaillierLabelSide
from vfl.algorithms.split.paillier.share_momentum import ShareMomentum
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.config.job_spec import VerticalJobSpec
from vfl.crypto.keys import MIN_KEY_BITS
from vfl.privacy.label_dp import LabelDP
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import PartySecret


class LabelHolderModel(nn.Module):
    """z = bottom_L(x)·W_L + b + Σ_p z_p, out = top(z); z_p comes from each peer's side.

    The label holder's own parts are drawn from its party secret; each peer's slice starts
    as the sum of two halves (`initial_shares`, initial_weights.py). With `label_dp`, every
    peer's side returns the label-DP δ̃ instead of the exact δ (training only: evaluation
    releases no gradient).
    """

    def __init__(
        self,
        spec: VerticalJobSpec,
        secret: PartySecret,
        own_width: int,
        peer_widths: dict[str, int],
        outputs: int,
        label_dp: LabelDP | None = None,
        min_key_bits: int = MIN_KEY_BITS,
    ) -> None:
        super().__init__()
        self.u = interactive_width(spec, outputs)
        self.bottom, d_own = (
            build_bottom(spec, own_width, init_generator(secret, "bottom"))
            if own_width
            else (nn.Identity(), 0)
        )
        fan_in = d_own + sum(peer_widths.values())
        generator = init_generator(secret, "interactive/own")
        self.own = InteractiveBlock.drawn(d_own, self.u, fan_in, generator)
        bound = 1.0 / max(fan_in, 1) ** 0.5
        self.bias = nn.Parameter(torch.empty(self.u).uniform_(-bound, bound, generator=generator))
        self.sides = nn.ModuleDict(
            {
                peer: _peer_side(spec, peer, d, self.u, fan_in, label_dp, min_key_bits)
                for peer, d in peer_widths.items()
            }
        )
        self.top = build_top(spec, self.u, outputs, init_generator(secret, "top"))

    def peer_sides(self) -> list[LabelSide]:
        return [cast(LabelSide, side) for side in self.sides.values()]

    def close(self) -> None:
        for side in self.sides.values():
            if isinstance(side, PaillierLabelSide):
                side.close()

    def start(self, ctx: PartyContext) -> None:
        """Every peer's exchange handshake, once per phase, in a fixed scope."""
        for side in self.peer_sides():
            side.start(ctx)

    def initial_shares(self, ctx: PartyContext) -> None:
        """Every peer's slice W₀ = W_L + W_F, once per training phase, before a checkpoint
        (if any) is loaded over it."""
        for side in self.peer_sides():
            side.initial_share(ctx.scoped(step=INIT_STEP))

    def plain_slices(self) -> list[nn.Parameter]:
        """The peers' interactive slices this party holds in the clear (protection none)."""
        return [
            side.block.weight for side in self.sides.values() if isinstance(side, PlainLabelSide)
        ]

    def velocity_state(self) -> dict[str, torch.Tensor]:
        """Each Paillier side's share of its velocity (momentum), for epoch checkpoints;
        kept out of `state_dict` so the published model does not depend on the optimizer."""
        out = {}
        for peer, side in self.sides.items():
            saved = side.velocity_state() if isinstance(side, PaillierLabelSide) else None
            if saved is not None:
                out[peer] = saved
        return out

    def load_velocity_state(self, saved: dict[str, torch.Tensor]) -> None:
        for peer, side in self.sides.items():
            if isinstance(side, PaillierLabelSide) and peer in saved:
                side.load_velocity(saved[peer])

    def forward_batch(self, ctx: PartyContext, x: torch.Tensor, training: bool) -> torch.Tensor:
        z = self.bottom(x) @ self.own.weight + self.bias
        for side in self.peer_sides():
            z = z + side.forward_batch(ctx, x.shape[0], training)
        out: torch.Tensor = self.top(z)
        return out

    def forward_imputed(self, x: torch.Tensor, peers: torch.Tensor) -> torch.Tensor:
        """Logits of rows the feature holders lack: their summed contribution is `peers`
        (1×u: each one's z_p of its training-mean row, `[predict] missing_party_rows`)."""
        z = self.bottom(x) @ self.own.weight + self.bias + peers
        out: torch.Tensor = self.top(z)
        return out

    def backward_batch(self, ctx: PartyContext) -> None:
        for side in self.peer_sides():
            side.backward_batch(ctx)

    def predict(self, ctx: PartyContext, x: torch.Tensor, rows: NDArray[np.int64]) -> torch.Tensor:
        """Forward-only logits for `rows`, in eval batches every feature holder also walks."""
        outs = []
        with torch.no_grad():
            for k, batch in enumerate(BatchSchedule.eval_batches(rows)):
                outs.append(self.forward_batch(ctx.scoped(batch=k), x[batch], training=False))
        return torch.cat(outs) if outs else torch.empty(0, 1)


def _peer_side(
    spec: VerticalJobSpec,
    peer: str,
    d: int,
    u: int,
    fan_in: int,
    label_dp: LabelDP | None,
    min_key_bits: int,
) -> nn.Module:
    """The label holder's end of the exchange with `peer`, by `train.protection`; both
    release the same label-DP δ̃ to every peer."""
    t = spec.train
    if t.protection == "paillier":
        return PaillierLabelSide(
            peer,
            d,
            u,
            fan_in,
            precision_bits=t.precision_bits,
            packing=t.packing,
            workers=t.workers,
            learning_rate=t.learning_rate,
            input_grad=not is_preset(spec),
            label_dp=label_dp,
            batch_size=t.batch_size,
            min_key_bits=min_key_bits,
            momentum=ShareMomentum(t.momentum, t.nesterov),
            scheme=t.he_scheme,
        )
    return PlainLabelSide(peer, d, u, fan_in, label_dp)


def model_meta(
    spec: VerticalJobSpec,
    codec: LabelCodec,
    own_width: int,
    peer_widths: dict[str, int],
    feature_names: tuple[str, ...],
) -> dict[str, Any]:
    return {
        "role": "label_holder",
        "kind": spec.model.kind,
        "own_width": own_width,
        "peer_widths": peer_widths,
        "feature_names": list(feature_names),
        **codec.meta(),
    }
