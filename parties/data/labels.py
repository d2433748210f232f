"""The label holder's label options: rows without a label, and a named positive class.

Both act on the raw column before anything else reads it, so a string label (`"yes"`) or
an empty one never needs an edit of the source. Messages count values, never quote them.
"""

from __future__ import annotations

import pandas as pd

from vfl.config.job_spec import MissingLabel, PartySpec
from vfl.errors import DataValidationError


def drop_missing_labels(source: str, party: PartySpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with a label; missing ones fail unless the party says `missing_label = "drop"`."""
    if party.label_column is None:
        return frame
    empty = frame[party.label_column].isna()
    if not empty.any():
        return frame
    if party.missing_label == MissingLabel.ERROR:
        raise DataValidationError(
            f"{source}: label column {party.label_column!r} has {int(empty.sum())} missing "
            f'values; fill them in the source or set missing_label = "drop" for party '
            f"{party.name!r} in the job spec"
        )
    return frame[~empty].reset_index(drop=True)


def positive_labels(source: str, party: PartySpec, frame: pd.DataFrame, task: str) -> pd.Series:
    """The label column, as 1 where it holds `positive_label` and 0 elsewhere when set."""
    assert party.label_column is not None  # the caller reads labels only where there are
    values = frame[party.label_column]
    positive = party.positive_label
    if positive is None:
        return values
    if task != "binary":
        raise DataValidationError(
            f"{source}: positive_label of party {party.name!r} needs model.task = 'binary', "
            f"not {task!r}; remove it or map the labels in the source"
        )
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        hits = values == _number(source, party, positive)
    else:
        hits = values.astype(str).str.strip() == str(positive).strip()
    if not hits.any():
        raise DataValidationError(
            f"{source}: label column {party.label_column!r} never holds positive_label of "
            f"party {party.name!r} ({values.nunique()} distinct values found); set it to the "
            "value that means 1"
        )
    return hits.astype(int)


def _number(source: str, party: PartySpec, positive: str | int) -> float:
    try:
        return float(positive)
    except ValueError:
        raise DataValidationError(
            f"{source}: label column {party.label_column!r} is numeric, but positive_label of "
            f"party {party.name!r} is text; set it to the number that means 1"
        ) from None
