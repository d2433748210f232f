"""The scores table a prediction job delivers: the receiver's ID column, then `score`
(binary: P(1)) or `score_<class>` per class (multiclass) and `class`, the most probable
class in the label's own values (binary: score ≥ 0.5), or `prediction` (regression, in
label units). The same columns as the transfer target's predictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from vfl.algorithms.split.messages import PredictScores
from vfl.config.job_spec import Task, vertical
from vfl.errors import ConfigError, ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.score_sink import OutputPlace, ScoreSink, open_sink


def _label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class ScoreColumns:
    """How model outputs become the delivered table's columns."""

    task: Task
    classes: tuple[float, ...]

    @classmethod
    def received(cls, task: Task, scores: PredictScores, sender: str) -> ScoreColumns:
        """The columns of `scores` from `sender`, whose class values are checked first."""
        classes = tuple(float(c) for c in scores.classes)
        expected = "none" if task == "regression" else "2" if task == "binary" else "2 to 4096"
        if (task == "regression") != (not classes) or not (
            len(classes) <= 4096 and (task != "binary" or len(classes) == 2)
        ):
            raise ProtocolError(
                f"split.PredictScores from {sender}: {len(classes)} class values for a "
                f"{task} task (expected {expected}); both sides must run the same job spec"
            )
        return cls(task, classes)

    def table(self, predictions: NDArray[np.float64]) -> NDArray[np.float64]:
        """rows × columns of what is delivered (LabelCodec.predictions → this)."""
        if self.task == "regression":
            return predictions.reshape(-1, 1)
        values = np.asarray(self.classes)
        if self.task == "binary":
            predicted = values[(predictions >= 0.5).astype(np.int64)]
            return np.column_stack([predictions, predicted])
        predicted = values[predictions.argmax(axis=1)] if len(predictions) else values[:0]
        return np.column_stack([predictions, predicted])

    def names(self) -> list[str]:
        if self.task == "regression":
            return ["prediction"]
        if self.task == "binary":
            return ["score", "class"]
        return [*(f"score_{_label(c)}" for c in self.classes), "class"]

    def frame(self, id_column: str, ids: Sequence[str], table: NDArray[np.float64]) -> pd.DataFrame:
        columns: dict[str, object] = {id_column: list(ids)}
        for k, name in enumerate(self.names()):
            column = table[:, k]
            integral = name == "class" and bool(np.all(np.mod(self.classes, 1) == 0))
            columns[name] = column.astype(np.int64) if integral else column
        return pd.DataFrame(columns)


def open_output(ctx: PartyContext) -> ScoreSink | None:
    """The sink at `deliver_to` (None when the job only evaluates), checked before any
    row is scored: an existing output fails the job in one line, nothing written."""
    spec = vertical(ctx.job)
    if spec.predict is None or spec.predict.output is None:
        return None
    if spec.deliver_to != ctx.party:
        raise ConfigError(f"party {ctx.party} is not predict.deliver_to {spec.deliver_to!r}")
    sink = open_sink(spec.predict, ctx.outputs or OutputPlace(spec.base_dir))
    sink.check()
    return sink
