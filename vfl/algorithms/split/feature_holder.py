"""A feature holder's programs: train its bottom model, then serve the evaluate pass.

Per batch: a = bottom(x) → the label holder; ∂loss/∂a ← back; back-propagate, step.
The feature holder never sees labels, the top model or the interactive weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from vfl.algorithms.split.exchange import FeatureSide, PlainFeatureSide
from vfl.algorithms.split.initial_weights import init_generator
from vfl.algorithms.split.messages import EXCHANGE_STEP, INIT_STEP, TrainHello
from vfl.algorithms.split.models import build_bottom, is_preset, make_optimizer
from vfl.algorithms.split.paillier.feature_side import PaillierFeatureSide
from vfl.algorithms.split.paillier.phase_keys import AnyKeyGen, scheme_keypair
from vfl.algorithms.split.paillier.share_momentum import ShareMomentum
from vfl.algorithms.split.preprocess import Standardizer
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.config.job_spec import vertical
from vfl.runtime.checkpoint_file import TorchCheckpoint
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.program import Program
from vfl.runtime.round_loop import RoundLoop


@dataclass
class _Setup:
    x: torch.Tensor
    schedule: BatchSchedule
    scaler: Standardizer
    bottom: nn.Module
    side: FeatureSide


def feature_side(
    ctx: PartyContext, width: int, keygen: AnyKeyGen | None, phase: str
) -> FeatureSide:
    """This party's end of the exchange, by `train.protection`."""
    t, label_holder = vertical(ctx.job).train, vertical(ctx.job).label_holder.name
    if t.protection == "paillier":
        return PaillierFeatureSide(
            label_holder,
            width,
            scheme_keypair(ctx.workspace, ctx.job_id, phase, t.key_bits, t.he_scheme, keygen),
            precision_bits=t.precision_bits,
            packing=t.packing,
            workers=t.workers,
            learning_rate=t.learning_rate,
            input_grad=not is_preset(vertical(ctx.job)),
            batch_size=t.batch_size,
            momentum=ShareMomentum(t.momentum, t.nesterov),
        )
    return PlainFeatureSide(label_holder, width)


def _setup(
    ctx: PartyContext, keygen: AnyKeyGen | None, phase: str, scaler: Standardizer | None = None
) -> _Setup:
    """Train fits the scaler on the training rows; evaluate passes the published one."""
    spec = vertical(ctx.job)
    data = ctx.require_data().aligned(ctx.workspace.load_alignment())
    schedule = BatchSchedule(
        data.rows, spec.train.batch_size, spec.train.validation_fraction, spec.job.seed
    )
    scaler = scaler or Standardizer.fit(data.features[schedule.train_rows], spec.train.standardize)
    bottom, width = build_bottom(spec, data.width, init_generator(PartySecret.of(ctx), "bottom"))
    label_holder = spec.label_holder.name
    ctx.scoped(step="hello").send(label_holder, TrainHello(rows=data.rows, width=width))
    side = feature_side(ctx, width, keygen, phase)
    return _Setup(scaler.apply(data.features), schedule, scaler, bottom, side)


class _TrainState:
    """What a feature holder carries from epoch to epoch: its bottom model, its side of
    the exchange (Paillier: its share acc) and the optimizer's state."""

    def __init__(self, s: _Setup, optimizer: torch.optim.Optimizer | None) -> None:
        self.s, self.optimizer = s, optimizer

    def state(self) -> dict[str, Any]:
        return {
            "bottom": self.s.bottom.state_dict(),
            "side": self.s.side.state(),
            "optimizer": self.optimizer.state_dict() if self.optimizer else {},
        }

    def load_state(self, saved: dict[str, Any]) -> None:
        self.s.bottom.load_state_dict(saved["bottom"])
        self.s.side.load_state(saved.get("side", {}))
        if self.optimizer is not None:
            self.optimizer.load_state_dict(saved["optimizer"])


def serve_forward(ctx: PartyContext, s: _Setup, rows: NDArray[np.int64]) -> None:
    """Forward-only pass over `rows`, batch for batch with the label holder's `predict`."""
    with torch.no_grad():
        for k, batch in enumerate(BatchSchedule.eval_batches(rows)):
            s.side.forward_batch(ctx.scoped(batch=k), s.bottom(s.x[batch]), training=False)


class SplitTrainFeatureHolder(Program):
    phase = "train"

    def __init__(self, keygen: AnyKeyGen | None = None) -> None:
        self.keygen = keygen
        """Key factory; None: the scheme's own; tests pass a small-key one (vfl.crypto.testing)."""

    def run(self, ctx: PartyContext) -> None:
        s = _setup(ctx, self.keygen, self.phase)
        try:
            self._train(ctx, s)
        finally:
            s.side.close()

    def _train(self, ctx: PartyContext, s: _Setup) -> None:
        spec = vertical(ctx.job)
        params = list(s.bottom.parameters())
        state = _TrainState(s, make_optimizer(spec, params) if params else None)
        loop = RoundLoop(spec.train.epochs, state, TorchCheckpoint(ctx.workspace, "train", "epoch"))
        fresh = loop.resume() == 0  # the side's state is loaded before it starts
        s.side.start(ctx.scoped(step=EXCHANGE_STEP))
        s.side.initial_share(ctx.scoped(step=INIT_STEP), fresh=fresh)
        loop.run(lambda epoch: self._epoch(ctx.scoped(epoch=epoch), epoch, s, state.optimizer))
        meta = {
            "role": "feature_holder",
            "kind": spec.model.kind,
            "feature_names": list(ctx.require_data().feature_names),
        }
        ctx.workspace.save_model(
            {"bottom": s.bottom.state_dict(), "scaler": s.scaler.state(), "side": s.side.state()},
            meta,
        )

    @staticmethod
    def _epoch(
        ctx: PartyContext, epoch: int, s: _Setup, optimizer: torch.optim.Optimizer | None
    ) -> None:
        for b, rows in enumerate(s.schedule.train_batches(epoch)):
            bctx = ctx.scoped(batch=b)
            a = s.bottom(s.x[rows])
            s.side.forward_batch(bctx, a, training=True)
            grad = s.side.backward_batch(bctx, len(rows))
            if optimizer is not None:
                optimizer.zero_grad()
                a.backward(grad)
                optimizer.step()
        if len(s.schedule.valid_rows):
            serve_forward(ctx.scoped(split="valid"), s, s.schedule.valid_rows)


class SplitEvaluateFeatureHolder(Program):
    phase = "evaluate"

    def __init__(self, keygen: AnyKeyGen | None = None) -> None:
        self.keygen = keygen

    def run(self, ctx: PartyContext) -> None:
        state, _ = ctx.workspace.load_model()
        s = _setup(ctx, self.keygen, self.phase, Standardizer.from_state(state["scaler"]))
        try:
            s.bottom.load_state_dict(state["bottom"])
            s.side.load_state(state.get("side", {}))
            s.bottom.eval()
            s.side.start(ctx.scoped(step=EXCHANGE_STEP))
            for split, rows in (
                ("train", s.schedule.train_rows),
                ("validation", s.schedule.valid_rows),
            ):
                if len(rows):
                    serve_forward(ctx.scoped(split=split), s, rows)
        finally:
            s.side.close()
