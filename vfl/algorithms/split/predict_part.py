"""What both roles of a vertical prediction job do alike: load this party's registered
part, check that the new data fits it, and walk the aligned rows chunk by chunk.

Both sides derive the chunks from the aligned row count and `[predict] chunk_rows` (no
message); within a chunk, batches are the evaluate batches (`BatchSchedule.eval_batches`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vfl.algorithms.split.preprocess import Standardizer
from vfl.config.job_spec import VerticalJobSpec, vertical
from vfl.config.predict_spec import VerticalPredictSpec
from vfl.dataset import PartyDataset
from vfl.errors import ConfigError, DataValidationError
from vfl.registry.approval import prediction_refusal
from vfl.runtime.context import PartyContext


@dataclass(frozen=True)
class LoadedPart:
    """This party's registered part of the model a prediction job names."""

    state: dict[str, Any]
    """The published state, loaded with `weights_only=True` (weights, scaler, side)."""
    meta: dict[str, Any]
    """model.json: role, feature names, widths, the label codec's values."""


def prediction(ctx: PartyContext) -> tuple[VerticalJobSpec, VerticalPredictSpec]:
    spec = vertical(ctx.job)
    if spec.predict is None:
        raise ConfigError("this program runs vertical jobs with a [predict] table")
    return spec, spec.predict


def load_part(ctx: PartyContext) -> LoadedPart:
    """The part `[predict] model` names, after the approval checks (again: a job approved
    another way never runs a part it does not fit)."""
    spec, predict = prediction(ctx)
    refusal = prediction_refusal(spec, ctx.job_id, ctx.party, ctx.require_registry(), None)
    if refusal is not None:
        raise ConfigError(refusal)
    state, meta = ctx.require_registry().load(predict.model, f"job {ctx.job_id}: predict.model")
    return LoadedPart(state, meta)


@dataclass(frozen=True)
class PredictInputs:
    """What every party's prediction program starts from: the spec, its registered part
    (columns checked), its data, the aligned IDs, where they sit, and the part's scaler."""

    spec: VerticalJobSpec
    predict: VerticalPredictSpec
    part: LoadedPart
    data: PartyDataset
    ids: tuple[str, ...]
    where: NDArray[np.int64]
    """Row of `data` of each aligned ID, in the aligned order."""
    scaler: Standardizer


def predict_inputs(ctx: PartyContext) -> PredictInputs:
    spec, predict = prediction(ctx)
    part = load_part(ctx)
    data = ctx.require_data()
    check_columns(data, part)
    ids = ctx.workspace.load_alignment()
    where = positions(data, ids, data.source)
    scaler = Standardizer.from_state(part.state["scaler"])
    return PredictInputs(spec, predict, part, data, ids, where, scaler)


def check_columns(data: PartyDataset, part: LoadedPart) -> None:
    """The new data must have the columns the part was trained on, in the same order."""
    trained = [str(c) for c in part.meta.get("feature_names", [])]
    found = list(data.feature_names)
    if found != trained:
        missing = [c for c in trained if c not in found]
        extra = [c for c in found if c not in trained]
        detail = (
            f"missing {', '.join(missing[:5])}"
            if missing
            else f"not trained on {', '.join(extra[:5])}"
            if extra
            else "in another order"
        )
        raise DataValidationError(
            f"{data.source}: feature columns do not match the model's ({detail}); list the "
            "training columns in `features` of this party"
        )


def positions(data: PartyDataset, ids: tuple[str, ...], source: str) -> NDArray[np.int64]:
    """Where each aligned ID sits in `data`; no shared row is a one-line error."""
    if not ids:
        raise DataValidationError(
            f"{source}: the parties share no IDs, nothing to score; check every party's "
            "id_column and `align.normalize`"
        )
    index = {id_: i for i, id_ in enumerate(data.ids)}
    try:
        return np.fromiter((index[i] for i in ids), dtype=np.int64, count=len(ids))
    except KeyError:
        raise DataValidationError(
            f"{source}: the aligned ID list names rows this dataset does not hold; the data "
            "changed since alignment — run the job again"
        ) from None


def chunks(rows: int, size: int) -> Iterator[tuple[int, NDArray[np.int64]]]:
    """(k, positions within the aligned rows) of each chunk of at most `size` rows."""
    for k, start in enumerate(range(0, rows, size)):
        yield k, np.arange(start, min(start + size, rows), dtype=np.int64)
