"""The target's programs: train Net_B with the source, serve evaluate, then predict.

The target holds no labels. In predict it scores, alone, every one of its rows outside
the intersection with the source's Φ, and writes them in its own workspace; nothing
about those rows is sent to anyone (only the file's path is reported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vfl.algorithms.split.preprocess import Standardizer
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.algorithms.transfer.exchange import TargetBatch, TargetSide, epoch_batches
from vfl.algorithms.transfer.messages import HELLO_STEP, SUMMARY_STEP, ClassSummary, TransferHello
from vfl.algorithms.transfer.model import build_representation, init_generator, make_optimizer
from vfl.algorithms.transfer.predictions import score_outside, write_predictions
from vfl.algorithms.transfer.protections import sides_for
from vfl.algorithms.transfer.training import ExchangeTraining, resume
from vfl.config.job_spec import MAX_WIDTH, TransferJobSpec, transfer
from vfl.errors import ProtocolError
from vfl.protocol.checks import expect_shape
from vfl.runtime.context import PartyContext
from vfl.runtime.events import OutputReport, Progress
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.program import Program


@dataclass
class _Setup:
    spec: TransferJobSpec
    x: torch.Tensor
    schedule: BatchSchedule
    scaler: Standardizer
    net: nn.Module
    side: TargetSide


def _net(ctx: PartyContext, spec: TransferJobSpec, width: int) -> nn.Module:
    return build_representation(spec, width, init_generator(PartySecret.of(ctx), "target"))


def _setup(ctx: PartyContext, scaler: Standardizer | None = None) -> _Setup:
    spec = transfer(ctx.job)
    data = ctx.require_data().aligned(ctx.workspace.load_alignment())
    source = spec.source.name
    t = spec.train
    ctx.scoped(step=HELLO_STEP).send(
        source, TransferHello(rows=data.rows, width=spec.model.representation_width)
    )
    schedule = BatchSchedule(data.rows, t.batch_size, t.validation_fraction, spec.job.seed)
    scaler = scaler or Standardizer.fit(data.features[schedule.train_rows], t.standardize)
    return _Setup(
        spec,
        scaler.apply(data.features),
        schedule,
        scaler,
        _net(ctx, spec, data.width),
        sides_for(spec).target(spec, source),
    )


def _serve(ctx: PartyContext, s: _Setup, rows: np.ndarray) -> None:
    with torch.no_grad():
        s.side.serve_scores(ctx, s.net(s.x[rows]))


class TransferTrainTarget(ExchangeTraining[_Setup]):
    def _setup(self, ctx: PartyContext) -> _Setup:
        return _setup(ctx)

    def _train(self, ctx: PartyContext, s: _Setup) -> None:
        t = s.spec.train
        optimizer = make_optimizer(s.spec, list(s.net.parameters()))
        start, _ = resume(ctx, s.net, optimizer)
        for epoch in range(start, t.epochs):
            ectx = ctx.scoped(epoch=epoch)
            for b, rows in enumerate(epoch_batches(s.spec, s.schedule, epoch)):
                batch = TargetBatch(s.net, optimizer, s.x[rows], t.local_rounds)
                s.side.train_batch(ectx.scoped(batch=b), batch)
            if len(s.schedule.valid_rows):
                _serve(ectx.scoped(split="valid"), s, s.schedule.valid_rows)
            ctx.workspace.save_checkpoint(
                "train",
                {"net": s.net.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch},
            )
            ctx.report(Progress("train", epoch + 1, t.epochs))
        meta = {
            "role": "target",
            "kind": s.spec.model.kind,
            "feature_names": list(ctx.require_data().feature_names),
        }
        ctx.workspace.save_model({"net": s.net.state_dict(), "scaler": s.scaler.state()}, meta)


class TransferEvaluateTarget(Program):
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
                    _serve(ctx.scoped(split=split), s, rows)
        finally:
            s.side.close()


class TransferPredictTarget(Program):
    """Scores every row of the target outside the intersection, in its own workspace."""

    phase = "predict"

    def run(self, ctx: PartyContext) -> None:
        spec = transfer(ctx.job)
        source = spec.source.name
        msg = ctx.scoped(step=SUMMARY_STEP).recv(source, ClassSummary)
        k = 1 if spec.model.task == "binary" else len(msg.classes)
        where = f"transfer.ClassSummary from {source}"
        if not 1 <= k <= MAX_WIDTH:
            raise ProtocolError(f"{where}: {k} classes, expected 2 to {MAX_WIDTH}")
        summary = expect_shape(where, msg.summary, (k, spec.model.representation_width))
        classes = expect_shape(where, msg.classes, (max(k, 2),))
        if len(np.unique(classes)) != len(classes):
            raise ProtocolError(f"{where}: names a class twice")
        state, _ = ctx.workspace.load_model()
        data = ctx.require_data()
        net = _net(ctx, spec, data.width)
        net.load_state_dict(state["net"])
        scaler = Standardizer.from_state(state["scaler"])
        scored = score_outside(
            data, ctx.workspace.load_alignment(), net, scaler, summary, classes, spec.model.task
        )
        path = write_predictions(ctx.workspace, scored, spec.target.id_column, spec.predict.format)
        ctx.report(OutputReport("predictions", str(path.resolve())))
