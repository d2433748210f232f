"""The source's programs: train Net_A with the target, evaluate, hand Φ to the target.

Reads top to bottom as messages.py: greet, then per batch exchange with the target
(through the protection's side), step, report; per epoch score the validation rows and
checkpoint. The source holds the labels, so it computes every loss and metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vfl.algorithms.split.preprocess import LabelCodec, Standardizer
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.algorithms.transfer.exchange import SourceBatch, SourceSide, epoch_batches
from vfl.algorithms.transfer.messages import (
    HELLO_STEP,
    SUMMARY_STEP,
    ClassSummary,
    TransferHello,
)
from vfl.algorithms.transfer.model import (
    build_representation,
    class_summary,
    coded_labels,
    init_generator,
    make_optimizer,
)
from vfl.algorithms.transfer.protections import sides_for
from vfl.algorithms.transfer.training import ExchangeTraining, resume
from vfl.config.job_spec import TransferJobSpec, transfer
from vfl.curves import curves_report
from vfl.errors import DataValidationError, ProtocolError
from vfl.metrics import compute_metrics
from vfl.runtime.context import PartyContext
from vfl.runtime.events import CurvesReport, EpochReport, MetricsReport, Progress, StepReport
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.program import Program


@dataclass
class _Setup:
    spec: TransferJobSpec
    x: torch.Tensor
    labels: torch.Tensor
    raw_labels: torch.Tensor
    schedule: BatchSchedule
    codec: LabelCodec
    scaler: Standardizer
    net: nn.Module
    side: SourceSide


def _setup(ctx: PartyContext, scaler: Standardizer | None = None) -> _Setup:
    """Train fits the scaler on the training rows; evaluate passes the published one."""
    spec = transfer(ctx.job)
    data = ctx.require_data().aligned(ctx.workspace.load_alignment())
    assert data.labels is not None, "the source's dataset carries labels"
    if data.width == 0:
        raise DataValidationError(
            f"{data.source}: the source has no feature columns; Net_A needs at least one"
        )
    target = spec.target.name
    hello = ctx.scoped(step=HELLO_STEP).recv(target, TransferHello)
    if hello.rows != data.rows:
        raise ProtocolError(
            f"transfer.TransferHello from {target}: {hello.rows} aligned rows, the source has "
            f"{data.rows}; the parties aligned different data — run align again"
        )
    if hello.width != spec.model.representation_width:
        raise ProtocolError(
            f"transfer.TransferHello from {target}: representation width {hello.width}, the "
            f"spec says model.representation_width = {spec.model.representation_width}"
        )
    t = spec.train
    schedule = BatchSchedule(data.rows, t.batch_size, t.validation_fraction, spec.job.seed)
    scaler = scaler or Standardizer.fit(data.features[schedule.train_rows], t.standardize)
    codec = LabelCodec.fit(spec.model.task, data.labels, schedule.train_rows, data.source, False)
    net = build_representation(spec, data.width, init_generator(PartySecret.of(ctx), "source"))
    return _Setup(
        spec=spec,
        x=scaler.apply(data.features),
        labels=codec.encode(data.labels),
        raw_labels=torch.from_numpy(data.labels),
        schedule=schedule,
        codec=codec,
        scaler=scaler,
        net=net,
        side=sides_for(spec).source(spec, target),
    )


def summary_over(s: _Setup, rows: np.ndarray) -> torch.Tensor:
    """Φ over `rows` with the current Net_A (the published Φ: every training row)."""
    with torch.no_grad():
        return class_summary(s.net(s.x[rows]), coded_labels(s.codec, s.labels[rows]))


def _metrics(
    ctx: PartyContext, s: _Setup, summary: torch.Tensor, rows: np.ndarray, split: str = ""
) -> tuple[dict[str, float], CurvesReport | None]:
    """The metrics of `rows`, and the ROC/KS curves of `split` when one is named (the
    final evaluation of a held-out split; not every epoch)."""
    with torch.no_grad():
        logits = s.side.scores(ctx, summary, len(rows))
        labels = s.raw_labels[rows].numpy()
        preds = s.codec.predictions(logits)
        values = compute_metrics(s.codec.task, labels, preds, s.codec.classes)
        values["loss"] = float(s.codec.loss(logits, s.labels[rows]))
    curves = curves_report(s.codec.task, split, labels, preds) if split else None
    return values, curves


class TransferTrainSource(ExchangeTraining[_Setup]):
    def _setup(self, ctx: PartyContext) -> _Setup:
        return _setup(ctx)

    def _train(self, ctx: PartyContext, s: _Setup) -> None:
        t = s.spec.train
        optimizer = make_optimizer(s.spec, list(s.net.parameters()))
        start, checkpoint = resume(ctx, s.net, optimizer)
        history = list(checkpoint.get("history", []))
        for epoch, record in enumerate(history):  # reports lost in a crash come back
            ctx.report(EpochReport(epoch, record))
        for epoch in range(start, t.epochs):
            ectx = ctx.scoped(epoch=epoch)
            total, seen = 0.0, 0
            for b, rows in enumerate(epoch_batches(s.spec, s.schedule, epoch)):
                batch = SourceBatch(
                    s.net, optimizer, s.x[rows], s.labels[rows], s.codec,
                    t.alignment_weight, t.local_rounds, t.prediction_loss,
                )  # fmt: skip
                loss = s.side.train_batch(ectx.scoped(batch=b), batch)
                if loss is not None:  # paillier keeps the loss from the source
                    ctx.report(StepReport(epoch, b, loss))
                    total, seen = total + loss * len(rows), seen + len(rows)
            record = {"train_loss": total / seen} if seen else {}
            valid = s.schedule.valid_rows
            if len(valid):
                summary = summary_over(s, s.schedule.train_rows)
                values, _ = _metrics(ectx.scoped(split="valid"), s, summary, valid)
                record.update({f"validation_{k}": v for k, v in values.items()})
            history.append(record)
            ctx.report(EpochReport(epoch, record))
            ctx.report(Progress("train", epoch + 1, t.epochs))
            ctx.workspace.save_checkpoint(
                "train",
                {
                    "net": s.net.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "epoch": epoch,
                    "history": history,
                },
            )
        state = {
            "net": s.net.state_dict(),
            "scaler": s.scaler.state(),
            "summary": summary_over(s, s.schedule.train_rows),
        }
        meta = {
            "role": "source",
            "kind": s.spec.model.kind,
            "feature_names": list(ctx.require_data().feature_names),
            **s.codec.meta(),
        }
        ctx.workspace.save_model(state, meta)


class TransferEvaluateSource(Program):
    """Final metrics of the published model on the overlap's training and validation rows."""

    phase = "evaluate"

    def run(self, ctx: PartyContext) -> None:
        state, _ = ctx.workspace.load_model()
        s = _setup(ctx, Standardizer.from_state(state["scaler"]))
        try:
            s.net.load_state_dict(state["net"])
            for split, rows in (
                ("train", s.schedule.train_rows),
                ("validation", s.schedule.valid_rows),
            ):
                if len(rows):
                    held_out = "" if split == "train" else split
                    values, curves = _metrics(
                        ctx.scoped(split=split), s, state["summary"], rows, held_out
                    )
                    ctx.report(MetricsReport(split, values))
                    if curves is not None:
                        ctx.report(curves)
        finally:
            s.side.close()


class TransferPredictSource(Program):
    """Hands the target Φ and the class values; receives nothing: the target's rows
    outside the intersection never cross the channel."""

    phase = "predict"

    def run(self, ctx: PartyContext) -> None:
        spec = transfer(ctx.job)
        state, meta = ctx.workspace.load_model()
        summary = state["summary"].detach().numpy().astype(np.float32)
        classes = np.asarray(meta["classes"], dtype=np.float64)
        ctx.scoped(step=SUMMARY_STEP).send(spec.target.name, ClassSummary(summary, classes))
