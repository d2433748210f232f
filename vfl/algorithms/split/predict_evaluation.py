"""Metrics of a prediction job over new labelled rows, at the label holder: its labels
never leave it; only the metrics, the confusion counts and the ROC/KS points at fixed
score quantiles are reported (the same events as training's evaluate)."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from vfl.algorithms.split.preprocess import LabelCodec
from vfl.curves import curves_report
from vfl.errors import DataValidationError
from vfl.metrics import compute_metrics
from vfl.runtime.context import PartyContext
from vfl.runtime.events import MetricsReport

SPLIT = "predict"
"""The result JSON's `metrics` key (and curves' split) of the scored rows."""


class PredictEvaluation:
    """Accumulates scores and labels chunk by chunk (8 bytes a row each), then reports."""

    def __init__(self, codec: LabelCodec, source: str) -> None:
        self.codec, self.source = codec, source
        self._labels: list[NDArray[np.float64]] = []
        self._predictions: list[NDArray[np.float64]] = []
        self._loss, self._rows = 0.0, 0

    def add(
        self, logits: torch.Tensor, predictions: NDArray[np.float64], labels: NDArray[np.float64]
    ) -> None:
        if self.codec.task != "regression":
            unknown = np.setdiff1d(np.unique(labels), np.asarray(self.codec.classes))
            if len(unknown):
                raise DataValidationError(
                    f"{self.source}: label column has {len(unknown)} class value(s) the model "
                    f"was not trained on (it knows {len(self.codec.classes)}); drop those rows"
                )
        with torch.no_grad():
            loss = self.codec.loss(logits, self.codec.encode(labels))
        self._loss += float(loss) * len(labels)
        self._rows += len(labels)
        self._labels.append(labels)
        self._predictions.append(predictions)

    def report(self, ctx: PartyContext) -> None:
        if not self._rows:
            return
        y = np.concatenate(self._labels)
        scores = np.concatenate(self._predictions)
        values = compute_metrics(self.codec.task, y, scores, self.codec.classes)
        values["loss"] = self._loss / self._rows
        values["rows"] = float(self._rows)
        if self.codec.task == "binary":
            predicted = scores >= 0.5
            positive = y == 1
            values["tp"] = float(np.sum(predicted & positive))
            values["fp"] = float(np.sum(predicted & ~positive))
            values["tn"] = float(np.sum(~predicted & ~positive))
            values["fn"] = float(np.sum(~predicted & positive))
        ctx.report(MetricsReport(SPLIT, values))
        curves = curves_report(self.codec.task, SPLIT, y, scores)
        if curves is not None:
            ctx.report(curves)
