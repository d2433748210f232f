"""A feature holder's program in a vertical prediction job: serve the forward pass of its
registered part over the newly aligned rows, chunk by chunk, as in training's evaluate;
when it is `deliver_to`, write the scores it receives for its own rows."""

from __future__ import annotations

import numpy as np
import torch

from vfl.algorithms.split.feature_holder import feature_side
from vfl.algorithms.split.initial_weights import init_generator
from vfl.algorithms.split.messages import EXCHANGE_STEP, PredictScores, TrainHello
from vfl.algorithms.split.models import build_bottom
from vfl.algorithms.split.paillier.phase_keys import AnyKeyGen
from vfl.algorithms.split.predict_part import chunks, predict_inputs
from vfl.algorithms.split.predict_scores import ScoreColumns, open_output
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.config.predict_spec import MissingPartyRows
from vfl.protocol.checks import expect_shape
from vfl.runtime.context import PartyContext
from vfl.runtime.events import OutputReport
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.program import Program


class SplitPredictFeatureHolder(Program):
    """Runs this party's bottom model (and Paillier side) on the shared rows."""

    phase = "predict"

    def __init__(self, keygen: AnyKeyGen | None = None) -> None:
        self.keygen = keygen
        """Key factory; None: the scheme's own; tests pass a small-key one (vfl.crypto.testing)."""

    def run(self, ctx: PartyContext) -> None:
        inputs = predict_inputs(ctx)
        spec, predict, part, data = inputs.spec, inputs.predict, inputs.part, inputs.data
        ids, where, scaler = inputs.ids, inputs.where, inputs.scaler
        bottom, width = build_bottom(
            spec, data.width, init_generator(PartySecret.of(ctx), "bottom")
        )
        bottom.load_state_dict(part.state["bottom"])
        bottom.eval()
        sink = open_output(ctx) if spec.deliver_to == ctx.party else None  # None: evaluate only
        label_holder = spec.label_holder.name
        ctx.scoped(step="hello").send(label_holder, TrainHello(rows=len(ids), width=width))
        side = feature_side(ctx, width, self.keygen, self.phase)
        try:
            side.load_state(part.state.get("side", {}))
            side.start(ctx.scoped(step=EXCHANGE_STEP))
            with torch.no_grad():
                if predict.missing_party_rows == MissingPartyRows.IMPUTE:
                    # the training mean of every column is 0 after this party's scaling
                    mean_row = torch.zeros(1, data.width)
                    side.forward_batch(ctx.scoped(step="impute"), bottom(mean_row), training=False)
                for k, chunk in chunks(len(ids), predict.chunk_rows):
                    x = scaler.apply(data.features[where[chunk]])
                    cctx = ctx.scoped(chunk=k)
                    for b, batch in enumerate(BatchSchedule.eval_batches(np.arange(len(chunk)))):
                        side.forward_batch(cctx.scoped(batch=b), bottom(x[batch]), training=False)
                    if sink is not None:
                        scores = cctx.scoped(step="scores").recv(label_holder, PredictScores)
                        columns = ScoreColumns.received(spec.model.task, scores, label_holder)
                        values = expect_shape(
                            f"split.PredictScores from {label_holder}",
                            scores.values,
                            (len(chunk), len(columns.names())),
                        )
                        me = spec.party(ctx.party)
                        sink.write(columns.frame(me.id_column, [ids[i] for i in chunk], values))
            if sink is not None:
                ctx.report(OutputReport("scores", sink.commit()))
        except BaseException:
            if sink is not None:
                sink.abort()
            raise
        finally:
            side.close()
