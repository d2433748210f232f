"""The label holder's programs: train the split model, then evaluate it.

Reads top to bottom as the protocol in messages.py: greet every feature holder, then per
batch collect z_p from each, run the top model, send gradients back, step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from vfl.algorithms.split.label_model import LabelHolderModel, model_meta
from vfl.algorithms.split.label_optimizer import LabelOptimizer
from vfl.algorithms.split.messages import EXCHANGE_STEP, TrainHello
from vfl.algorithms.split.preprocess import LabelCodec, Standardizer
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.config.job_spec import vertical
from vfl.crypto.keys import MIN_KEY_BITS
from vfl.curves import curves_report
from vfl.errors import ProtocolError
from vfl.metrics import compute_metrics
from vfl.privacy.label_dp import LabelDP
from vfl.runtime.checkpoint_file import TorchCheckpoint
from vfl.runtime.context import PartyContext
from vfl.runtime.events import EpochReport, MetricsReport, StepReport
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.program import Program
from vfl.runtime.round_loop import RoundLoop, reporting


@dataclass
class _Setup:
    x: torch.Tensor
    labels: torch.Tensor
    raw_labels: torch.Tensor
    schedule: BatchSchedule
    codec: LabelCodec
    scaler: Standardizer
    peer_widths: dict[str, int]


def _setup(ctx: PartyContext, scaler: Standardizer | None = None) -> _Setup:
    """Train fits the scaler on the training rows; evaluate passes the published one."""
    spec = vertical(ctx.job)
    data = ctx.require_data().aligned(ctx.workspace.load_alignment())
    assert data.labels is not None, "the label holder's dataset carries labels"
    schedule = BatchSchedule(
        data.rows, spec.train.batch_size, spec.train.validation_fraction, spec.job.seed
    )
    peer_widths: dict[str, int] = {}
    for peer in (p.name for p in spec.feature_holders):
        hello = ctx.scoped(step="hello").recv(peer, TrainHello)
        if hello.rows != data.rows:
            raise ProtocolError(
                f"split.TrainHello from {peer}: {hello.rows} aligned rows, label holder has "
                f"{data.rows}; the parties aligned different data — run align again"
            )
        if not 1 <= hello.width <= 1_000_000:
            raise ProtocolError(f"split.TrainHello from {peer}: width {hello.width} out of range")
        peer_widths[peer] = hello.width
    scaler = scaler or Standardizer.fit(data.features[schedule.train_rows], spec.train.standardize)
    codec = LabelCodec.fit(
        spec.model.task, data.labels, schedule.train_rows, data.source, spec.train.standardize
    )
    return _Setup(
        x=scaler.apply(data.features),
        labels=codec.encode(data.labels),
        raw_labels=torch.from_numpy(data.labels),
        schedule=schedule,
        codec=codec,
        scaler=scaler,
        peer_widths=peer_widths,
    )


class _TrainState:
    """What the label holder carries from epoch to epoch: its model, the optimizer's
    state (and each Paillier side's velocity share), and each finished epoch's record
    (re-reported after a resume)."""

    def __init__(self, model: LabelHolderModel, optimizer: LabelOptimizer) -> None:
        self.model, self.optimizer = model, optimizer
        self.history: list[dict[str, float]] = []

    def state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            **self.optimizer.state(),
            "velocity": self.model.velocity_state(),
            "history": self.history,
        }

    def load_state(self, saved: dict[str, Any]) -> None:
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state(saved)
        self.model.load_velocity_state(saved.get("velocity", {}))
        self.history = list(saved.get("history", []))


def _model(
    ctx: PartyContext, s: _Setup, min_key_bits: int, label_dp: LabelDP | None = None
) -> LabelHolderModel:
    return LabelHolderModel(
        vertical(ctx.job),
        PartySecret.of(ctx),
        s.x.shape[1],
        s.peer_widths,
        s.codec.outputs,
        label_dp,
        # the spec's key size, not just the floor: F must not quietly use a smaller key
        min_key_bits
        if min_key_bits < MIN_KEY_BITS
        else max(min_key_bits, vertical(ctx.job).train.key_bits),
    )


class SplitTrainLabelHolder(Program):
    """Trains the top, the interactive layer and L's bottom; with [privacy] label-DP, every
    feature holder gets δ̃ and the ε spent is reported when training ends."""

    phase = "train"

    def __init__(self, min_key_bits: int = MIN_KEY_BITS) -> None:
        self.min_key_bits = min_key_bits
        """Smallest Paillier modulus accepted from a feature holder; tests lower it."""

    def run(self, ctx: PartyContext) -> None:
        s = _setup(ctx)
        spec = vertical(ctx.job)
        label_dp = LabelDP.from_spec(spec.privacy, spec.train.epochs)
        model = _model(ctx, s, self.min_key_bits, label_dp)
        try:
            model.start(ctx.scoped(step=EXCHANGE_STEP))
            model.initial_shares(ctx)
            self._train(ctx, model, s)
        finally:
            model.close()
        if label_dp is not None:
            holders = [p.name for p in spec.feature_holders]
            ctx.report(label_dp.report(holders, spec.train.epochs))

    def _train(self, ctx: PartyContext, model: LabelHolderModel, s: _Setup) -> None:
        spec = vertical(ctx.job)
        optimizer = LabelOptimizer(spec, list(model.parameters()), model.plain_slices())
        state = _TrainState(model, optimizer)
        epochs = spec.train.epochs
        loop = RoundLoop(epochs, state, TorchCheckpoint(ctx.workspace, "train", "epoch"))
        # Report the finished epochs again: a report sent just before a crash, or refused
        # while the job was failed (before `vfl job resume`), is not lost. Reports are
        # keyed by epoch, so a copy the coordinator has is replaced.
        loop.resume()
        for epoch, record in enumerate(state.history):
            ctx.report(EpochReport(epoch, record))
        report = reporting(ctx, "train", epochs)

        def after(epoch: int, record: dict[str, float]) -> None:
            state.history.append(record)
            report(epoch, record)

        loop.run(
            lambda epoch: self._epoch(ctx.scoped(epoch=epoch), epoch, model, state.optimizer, s),
            after,
        )
        published = {"model": model.state_dict(), "scaler": s.scaler.state()}
        meta = model_meta(
            spec, s.codec, s.x.shape[1], s.peer_widths, ctx.require_data().feature_names
        )
        ctx.workspace.save_model(published, meta)

    @staticmethod
    def _epoch(
        ctx: PartyContext,
        epoch: int,
        model: LabelHolderModel,
        optimizer: LabelOptimizer,
        s: _Setup,
    ) -> dict[str, float]:
        total, seen = 0.0, 0
        for b, rows in enumerate(s.schedule.train_batches(epoch)):
            bctx = ctx.scoped(batch=b)
            optimizer.zero_grad()
            logits = model.forward_batch(bctx, s.x[rows], training=True)
            loss = s.codec.loss(logits, s.labels[rows])
            loss.backward()  # type: ignore[no-untyped-call]
            model.backward_batch(bctx)
            optimizer.step()
            value = loss.item()
            ctx.report(StepReport(epoch, b, value))
            total += value * len(rows)
            seen += len(rows)
        record = {"train_loss": total / max(seen, 1)}
        valid = s.schedule.valid_rows
        if len(valid):
            logits = model.predict(ctx.scoped(split="valid"), s.x, valid)
            record["validation_loss"] = float(s.codec.loss(logits, s.labels[valid]))
            preds = s.codec.predictions(logits)
            metrics = compute_metrics(
                s.codec.task, s.raw_labels[valid].numpy(), preds, s.codec.classes
            )
            record.update({f"validation_{k}": v for k, v in metrics.items()})
        return record


class SplitEvaluateLabelHolder(Program):
    """Final metrics of the published model on the training and validation rows."""

    phase = "evaluate"

    def __init__(self, min_key_bits: int = MIN_KEY_BITS) -> None:
        self.min_key_bits = min_key_bits

    def run(self, ctx: PartyContext) -> None:
        state, _ = ctx.workspace.load_model()
        s = _setup(ctx, Standardizer.from_state(state["scaler"]))
        model = _model(ctx, s, self.min_key_bits)
        model.load_state_dict(state["model"])
        model.eval()
        try:
            model.start(ctx.scoped(step=EXCHANGE_STEP))
            self._evaluate(ctx, model, s)
        finally:
            model.close()

    @staticmethod
    def _evaluate(ctx: PartyContext, model: LabelHolderModel, s: _Setup) -> None:
        for split, rows in (
            ("train", s.schedule.train_rows),
            ("validation", s.schedule.valid_rows),
        ):
            if not len(rows):
                continue
            logits = model.predict(ctx.scoped(split=split), s.x, rows)
            preds = s.codec.predictions(logits)
            values = compute_metrics(
                s.codec.task, s.raw_labels[rows].numpy(), preds, s.codec.classes
            )
            values["loss"] = float(s.codec.loss(logits, s.labels[rows]))
            ctx.report(MetricsReport(split, values))
            if split != "train":  # curves of held-out rows only
                curves = curves_report(s.codec.task, split, s.raw_labels[rows].numpy(), preds)
                if curves is not None:
                    ctx.report(curves)
