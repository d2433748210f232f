"""Turn a party's raw table into a validated PartyDataset, or say in one line what is wrong.

Messages name the source, the column and what was found, never a value from a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from parties.data.labels import drop_missing_labels, positive_labels
from parties.data.readers import describe_source, read_table
from vfl.config.id_rules import IdRule
from vfl.config.job_spec import HorizontalJobSpec, JobSpec, PartySpec, Task
from vfl.dataset import PartyDataset
from vfl.errors import DataValidationError


def load_dataset(spec: JobSpec, party: PartySpec, base_dir: Path | None = None) -> PartyDataset:
    source = describe_source(party)
    frame = read_table(party, base_dir or spec.base_dir)
    if frame.empty:
        raise DataValidationError(f"{source}: has a header but no rows")
    columns = [str(c) for c in frame.columns]
    frame.columns = pd.Index(columns)
    if party.id_column is not None:  # optional where nothing is aligned (horizontal)
        _require_column(source, "ID", party.id_column, columns)
    if party.label_column is not None:
        _require_column(source, "label", party.label_column, columns)
    features = _feature_columns(source, party, columns)
    frame = drop_missing_labels(source, party, frame)
    frame = _apply_missing(source, party, frame, features)
    # IDs are matched across parties only where a mode aligns rows
    if party.id_column is None:
        ids = tuple(str(i) for i in range(len(frame)))  # row numbers, never sent
    else:
        normalize = [] if isinstance(spec, HorizontalJobSpec) else spec.align.normalize
        ids = _normalised_ids(source, party.id_column, frame[party.id_column], normalize)
    labels = (
        _labels(
            source,
            party.label_column,
            positive_labels(source, party, frame, spec.model.task),
            spec.model.task,
        )
        if party.label_column is not None
        else None
    )
    matrix = frame[features].to_numpy(dtype=np.float32) if features else np.zeros((len(frame), 0))
    if not np.isfinite(matrix).all():
        bad = [c for c in features if not np.isfinite(frame[c].to_numpy(dtype=np.float64)).all()]
        raise DataValidationError(
            f"{source}: column {bad[0]!r} has infinite or out-of-range values; clean the source"
        )
    return PartyDataset(source, ids, matrix.astype(np.float32), tuple(features), labels)


def _require_column(source: str, what: str, name: str, columns: list[str]) -> None:
    if name not in columns:
        raise DataValidationError(
            f"{source}: {what} column {name!r} not found (columns: {', '.join(columns)})"
        )


def _feature_columns(source: str, party: PartySpec, columns: list[str]) -> list[str]:
    reserved = {party.id_column, party.label_column}
    if party.features is not None:
        for name in party.features:
            _require_column(source, "feature", name, columns)
            if name in reserved:
                raise DataValidationError(
                    f"{source}: {name!r} is the ID or label column; remove it from `features`"
                )
        chosen = list(party.features)
    else:
        chosen = [c for c in columns if c not in reserved]
    if party.role == "feature_holder" and not chosen:
        raise DataValidationError(
            f"{source}: no feature columns besides the ID; a feature holder must contribute some"
        )
    return chosen


def _apply_missing(
    source: str, party: PartySpec, frame: pd.DataFrame, features: list[str]
) -> pd.DataFrame:
    for name in features:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            frame[name] = column.astype(np.float32)
        elif not pd.api.types.is_numeric_dtype(column):
            raise DataValidationError(
                f"{source}: feature column {name!r} is not numeric (dtype {column.dtype}); "
                "encode it as numbers or leave it out with `features = [...]`"
            )
    missing = frame[features].isna().sum()
    missing = missing[missing > 0]
    if missing.empty:
        return frame
    if party.missing == "error":
        first = str(missing.index[0])
        return _raise(
            f"{source}: feature column {first!r} has {int(missing.iloc[0])} missing values "
            f"({len(missing)} column(s) affected); clean the source or set "
            f'missing = "drop" | "zero" | "mean" for party {party.name!r}'
        )
    if party.missing == "drop":
        return frame.dropna(subset=features).reset_index(drop=True)
    fill = 0.0 if party.missing == "zero" else frame[features].mean()
    frame[features] = frame[features].fillna(fill)
    return frame


def _normalised_ids(
    source: str, column: str, values: pd.Series, rules: Sequence[str]
) -> tuple[str, ...]:
    if values.isna().any():
        raise DataValidationError(
            f"{source}: ID column {column!r} has {int(values.isna().sum())} empty values; "
            "every row needs an ID"
        )
    if pd.api.types.is_float_dtype(values):
        if not (values == values.round()).all():
            raise DataValidationError(
                f"{source}: ID column {column!r} holds fractional numbers; IDs must be text "
                "or integers"
            )
        values = values.astype(np.int64)
    text = values.astype(str)
    for rule in map(IdRule, rules):
        text = text.map(rule.apply)
    broken = text.str.contains("\n", regex=False) | text.str.contains("\r", regex=False)
    if broken.any():
        raise DataValidationError(
            f"{source}: ID column {column!r} has {int(broken.sum())} IDs containing a line "
            "break; IDs must be single-line text — clean the source"
        )
    if (text == "").any():
        raise DataValidationError(
            f"{source}: ID column {column!r} has {int((text == '').sum())} blank IDs"
        )
    counts = text.value_counts()
    dupes = counts[counts > 1]
    if not dupes.empty:
        raise DataValidationError(
            f"{source}: ID column {column!r} has {len(dupes)} duplicated IDs "
            f"({int(dupes.sum())} rows){' after normalisation' if rules else ''}; "
            "IDs must be unique — deduplicate the source"
        )
    return tuple(text.tolist())


def _labels(source: str, column: str, values: pd.Series, task: Task) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        values = values.astype(np.float64)
    if not pd.api.types.is_numeric_dtype(values):
        raise DataValidationError(
            f"{source}: label column {column!r} is not numeric (dtype {values.dtype}); "
            + ("map it to 0/1" if task == "binary" else "map it to numbers")
        )
    labels = values.to_numpy(dtype=np.float64)
    if not np.isfinite(labels).all():
        raise DataValidationError(f"{source}: label column {column!r} has infinite values")
    distinct = np.unique(labels)
    if task == "binary" and not set(distinct.tolist()) <= {0.0, 1.0}:
        raise DataValidationError(
            f"{source}: label column {column!r} has {len(distinct)} distinct values but task is "
            "'binary' (expected 0 and 1); map the labels to 0/1 or set task = 'multiclass'"
        )
    if task == "multiclass":
        if not np.array_equal(distinct, distinct.round()):
            raise DataValidationError(
                f"{source}: label column {column!r} has non-integer values but task is "
                "'multiclass'; use integer class codes or task = 'regression'"
            )
        if len(distinct) < 2:
            raise DataValidationError(
                f"{source}: label column {column!r} has a single class; multiclass needs >= 2"
            )
    return labels


def _raise(message: str) -> pd.DataFrame:
    raise DataValidationError(message)
