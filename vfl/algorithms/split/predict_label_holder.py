"""The label holder's program in a vertical prediction job: run its registered part (own
bottom, interactive layer, top) with every feature holder's over the newly aligned rows,
chunk by chunk, under the protection the model was trained with; deliver the scores (to
its own output, or to `deliver_to` only); with labels, report metrics and curves."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from vfl.algorithms.split.label_model import LabelHolderModel
from vfl.algorithms.split.messages import EXCHANGE_STEP, PredictScores, TrainHello
from vfl.algorithms.split.predict_evaluation import PredictEvaluation
from vfl.algorithms.split.predict_part import LoadedPart, chunks, predict_inputs, prediction
from vfl.algorithms.split.predict_scores import ScoreColumns, open_output
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.config.predict_spec import MissingPartyRows
from vfl.crypto.keys import MIN_KEY_BITS
from vfl.dataset import PartyDataset
from vfl.errors import DataValidationError, ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.events import OutputReport
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.program import Program
from vfl.runtime.score_sink import ScoreSink


def codec_of(meta: dict[str, object]) -> LabelCodec:
    """The label codec published with the label holder's part (model.json)."""
    classes = meta.get("classes", [])
    assert isinstance(classes, list)
    return LabelCodec(
        meta["task"],  # type: ignore[arg-type]
        tuple(float(c) for c in classes),
        float(meta.get("target_mean", 0.0)),  # type: ignore[arg-type]
        float(meta.get("target_scale", 1.0)),  # type: ignore[arg-type]
    )


def _outside(data: PartyDataset, ids: tuple[str, ...]) -> NDArray[np.int64]:
    """Positions of this party's rows that are not shared by every feature holder."""
    shared = set(ids)
    return np.array([i for i, id_ in enumerate(data.ids) if id_ not in shared], dtype=np.int64)


class SplitPredictLabelHolder(Program):
    """Scores the shared rows (and, with `impute`, its other rows) with the whole model."""

    phase = "predict"

    def __init__(self, min_key_bits: int = MIN_KEY_BITS) -> None:
        self.min_key_bits = min_key_bits
        """Smallest Paillier modulus accepted from a feature holder; tests lower it."""

    def run(self, ctx: PartyContext) -> None:
        inputs = predict_inputs(ctx)
        spec, predict, part, data = inputs.spec, inputs.predict, inputs.part, inputs.data
        ids, where, scaler = inputs.ids, inputs.where, inputs.scaler
        outside = _outside(data, ids)
        impute = predict.missing_party_rows == MissingPartyRows.IMPUTE
        if len(outside) and not impute:
            raise DataValidationError(
                f"{data.source}: {len(outside)} of its {data.rows} rows are missing at a "
                f"feature holder ({len(ids)} shared by all); set [predict] missing_party_rows "
                '= "impute" to score them with the feature holders\' training means, or '
                "leave them out of this data"
            )
        model, codec = self._model(ctx, part, data, len(ids))
        sink = open_output(ctx) if spec.deliver_to == ctx.party else None
        run = _Delivery(ctx, data, codec, sink)
        try:
            model.start(ctx.scoped(step=EXCHANGE_STEP))
            with torch.no_grad():
                imputed = (
                    sum(
                        (
                            s.forward_batch(ctx.scoped(step="impute"), 1, False)
                            for s in model.peer_sides()
                        ),
                        torch.zeros(1, model.u),
                    )
                    if impute
                    else None
                )
                for k, chunk in chunks(len(ids), predict.chunk_rows):
                    rows = where[chunk]
                    x = scaler.apply(data.features[rows])
                    logits = model.predict(ctx.scoped(chunk=k), x, np.arange(len(rows)))
                    run.deliver(ctx.scoped(chunk=k), logits, rows)
                if imputed is not None:  # rows no feature holder sees: delivered here only
                    for _, chunk in chunks(len(outside), predict.chunk_rows):
                        rows = outside[chunk]
                        logits = model.forward_imputed(scaler.apply(data.features[rows]), imputed)
                        run.deliver(None, logits, rows)
            run.finish()
        except BaseException:
            if sink is not None:
                sink.abort()
            raise
        finally:
            model.close()

    def _model(
        self, ctx: PartyContext, part: LoadedPart, data: PartyDataset, rows: int
    ) -> tuple[LabelHolderModel, LabelCodec]:
        spec, _ = prediction(ctx)
        widths = {str(p): int(w) for p, w in dict(part.meta["peer_widths"]).items()}
        for peer in (p.name for p in spec.feature_holders):
            hello = ctx.scoped(step="hello").recv(peer, TrainHello)
            if hello.rows != rows or hello.width != widths.get(peer):
                raise ProtocolError(
                    f"split.TrainHello from {peer}: {hello.rows} rows of width {hello.width}, "
                    f"expected {rows} of width {widths.get(peer)}; the parties aligned "
                    "different data or hold parts of different models — run the job again"
                )
        codec = codec_of(part.meta)
        key_bits = spec.train.key_bits
        min_bits = (
            self.min_key_bits
            if self.min_key_bits < MIN_KEY_BITS
            else max(self.min_key_bits, key_bits)
        )
        secret = PartySecret.of(ctx)
        model = LabelHolderModel(spec, secret, data.width, widths, codec.outputs, None, min_bits)
        model.load_state_dict(part.state["model"])
        model.eval()
        return model, codec


class _Delivery:
    """Where each chunk's scores go: this party's sink, or `deliver_to` as PredictScores;
    and, with labels, into the evaluation."""

    def __init__(
        self, ctx: PartyContext, data: PartyDataset, codec: LabelCodec, sink: ScoreSink | None
    ) -> None:
        spec, _ = prediction(ctx)
        self.ctx, self.data, self.codec, self.sink = ctx, data, codec, sink
        self.columns = ScoreColumns(codec.task, codec.classes)
        self.deliver_to = spec.deliver_to
        # a feature holder named deliver_to gets the scores of its rows, if there is an output
        self.sends = (
            spec.deliver_to != ctx.party
            and spec.predict is not None
            and spec.predict.output is not None
        )
        self.id_column = spec.party(ctx.party).id_column
        self.evaluation = PredictEvaluation(codec, data.source) if data.labels is not None else None

    def deliver(
        self, ctx: PartyContext | None, logits: torch.Tensor, rows: NDArray[np.int64]
    ) -> None:
        predictions = self.codec.predictions(logits)
        if self.evaluation is not None and self.data.labels is not None:
            self.evaluation.add(logits, predictions, self.data.labels[rows])
        table = self.columns.table(predictions)
        if self.sink is not None:
            ids = [self.data.ids[r] for r in rows]
            self.sink.write(self.columns.frame(self.id_column, ids, table))
        elif ctx is not None and self.sends:
            classes = np.asarray(self.codec.classes, dtype=np.float64)
            ctx.scoped(step="scores").send(self.deliver_to, PredictScores(table, classes))

    def finish(self) -> None:
        if self.evaluation is not None:
            self.evaluation.report(self.ctx)
        if self.sink is not None:
            self.ctx.report(OutputReport("scores", self.sink.commit()))
