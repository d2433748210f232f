"""Each bad data source yields one line naming the source, the column, what was found, the fix.

None of these messages may contain a value from a row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from parties.data import load_dataset
from tests.factories import job_dict, job_spec
from vfl.errors import DataValidationError


def _load(
    tmp_path: Path,
    frame: pd.DataFrame | None = None,
    *,
    text: str | None = None,
    party: dict[str, Any] | None = None,
    **sections: dict[str, Any],
) -> Any:
    path = tmp_path / "bank.csv"
    if text is not None:
        path.write_text(text)
    elif frame is not None:
        frame.to_csv(path, index=False)
    spec_dict = job_dict({"bank": path, "shop": tmp_path / "shop.csv"}, **sections)
    spec_dict["parties"][0].update(party or {})
    spec = job_spec(spec_dict, tmp_path)
    return load_dataset(spec, spec.parties[0])


def _frame(**columns: Any) -> pd.DataFrame:
    base = {"id": ["a", "b", "c", "d"], "age": [30, 40, 50, 60], "y": [0, 1, 0, 1]}
    base.update(columns)
    return pd.DataFrame(base)


def _error(tmp_path: Path, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(DataValidationError) as info:
        _load(tmp_path, *args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("bank.csv") or message.startswith("sqlite")
    return message


def test_valid_csv_loads_ids_as_text_features_as_float32(tmp_path: Path) -> None:
    data = _load(tmp_path, _frame(id=["007", "8", "9", "10"]))
    assert data.ids == ("007", "8", "9", "10")
    assert data.features.dtype == np.float32
    assert data.feature_names == ("age",)
    assert data.labels is not None and data.labels.tolist() == [0, 1, 0, 1]


def test_missing_id_column_lists_the_columns_found(tmp_path: Path) -> None:
    message = _error(tmp_path, _frame(), party={"id_column": "customer_id"})
    assert message == "bank.csv: ID column 'customer_id' not found (columns: id, age, y)"


def test_missing_label_column_lists_the_columns_found(tmp_path: Path) -> None:
    message = _error(tmp_path, _frame(), party={"label_column": "default"})
    assert "label column 'default' not found (columns: id, age, y)" in message


def test_duplicate_ids_are_counted_not_shown(tmp_path: Path) -> None:
    message = _error(tmp_path, _frame(id=["secret-1", "secret-1", "c", "c"]))
    assert "2 duplicated IDs (4 rows)" in message
    assert "deduplicate" in message
    assert "secret-1" not in message


def test_ids_duplicated_only_after_normalisation_are_reported(tmp_path: Path) -> None:
    message = _error(
        tmp_path, _frame(id=["A1", "a1 ", "c", "d"]), align={"normalize": ["strip", "lower"]}
    )
    assert "1 duplicated IDs (2 rows) after normalisation" in message


def test_non_numeric_feature_column_is_named_with_its_dtype(tmp_path: Path) -> None:
    message = _error(tmp_path, _frame(region=["north", "south", "east", "west"]))
    assert "feature column 'region' is not numeric" in message
    assert "features = [...]" in message
    assert "north" not in message


def test_nans_fail_by_default_with_the_policy_to_choose(tmp_path: Path) -> None:
    message = _error(tmp_path, _frame(age=[30, None, None, 60]))
    assert "feature column 'age' has 2 missing values" in message
    assert 'missing = "drop" | "zero" | "mean"' in message


@pytest.mark.parametrize(
    ("policy", "rows", "filled"), [("drop", 3, None), ("zero", 4, 0.0), ("mean", 4, 45.0)]
)
def test_declared_missing_value_policies(
    tmp_path: Path, policy: str, rows: int, filled: float | None
) -> None:
    data = _load(tmp_path, _frame(age=[30, None, 50, 55]), party={"missing": policy})
    assert data.rows == rows
    if filled is not None:
        assert data.features[1, 0] == pytest.approx(filled)


def test_empty_file(tmp_path: Path) -> None:
    assert _error(tmp_path, text="") == "bank.csv: file is empty (no header, no rows)"


def test_header_without_rows(tmp_path: Path) -> None:
    assert _error(tmp_path, text="id,age,y\n") == "bank.csv: has a header but no rows"


def test_missing_file_says_paths_are_relative_to_the_spec(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="relative to the job spec"):
        spec = job_spec(job_dict({"bank": tmp_path / "nope.csv", "shop": tmp_path / "s.csv"}))
        load_dataset(spec, spec.parties[0])


def test_three_label_values_for_binary_task(tmp_path: Path) -> None:
    message = _error(tmp_path, _frame(y=[0, 1, 2, 1]))
    assert "label column 'y' has 3 distinct values but task is 'binary'" in message
    assert "task = 'multiclass'" in message


def test_text_labels_must_be_mapped(tmp_path: Path) -> None:
    message = _error(tmp_path, _frame(y=["M", "B", "M", "B"]))
    assert "label column 'y' is not numeric" in message
    assert "map it to 0/1" in message


def test_fractional_labels_for_multiclass(tmp_path: Path) -> None:
    message = _error(tmp_path, _frame(y=[0.5, 1, 2, 1]), model={"task": "multiclass"})
    assert "non-integer values but task is 'multiclass'" in message


def test_missing_labels_are_counted(tmp_path: Path) -> None:
    assert "label column 'y' has 1 missing values" in _error(tmp_path, _frame(y=[0, None, 1, 1]))


def test_ids_with_line_breaks_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.parquet"  # Parquet keeps the IDs exactly; CSV rows would split
    _frame(id=["a\nb", "c", "d\re", "f"]).to_parquet(path)
    spec = job_spec(job_dict({"bank": path, "shop": tmp_path / "shop.csv"}))
    with pytest.raises(DataValidationError) as info:
        load_dataset(spec, spec.parties[0])
    assert "2 IDs containing a line break" in str(info.value)
    assert "a\nb" not in str(info.value)


def test_blank_ids(tmp_path: Path) -> None:
    assert "1 blank IDs" in _error(
        tmp_path, _frame(id=["a", " ", "c", "d"]), align={"normalize": ["strip"]}
    )


def test_feature_holder_without_features(tmp_path: Path) -> None:
    pd.DataFrame({"id": ["a", "b"]}).to_csv(tmp_path / "shop.csv", index=False)
    spec = job_spec(job_dict({"bank": tmp_path / "bank.csv", "shop": tmp_path / "shop.csv"}))
    with pytest.raises(DataValidationError, match="no feature columns besides the ID"):
        load_dataset(spec, spec.parties[1])


def test_parquet_source_with_integer_ids(tmp_path: Path) -> None:
    path = tmp_path / "bank.parquet"
    pd.DataFrame({"id": [7, 8, 9], "age": [1.0, 2.0, 3.0], "y": [0, 1, 0]}).to_parquet(path)
    spec_dict = job_dict({"bank": path, "shop": tmp_path / "shop.csv"})
    spec = job_spec(spec_dict)
    data = load_dataset(spec, spec.parties[0])
    assert data.ids == ("7", "8", "9")


def _sqlite(tmp_path: Path) -> Path:
    db = tmp_path / "bank.db"
    with sqlite3.connect(db) as conn:
        _frame().to_sql("customers", conn, index=False)
    return db


def test_sqlite_table_source(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    data = _load(tmp_path, party={"data": f"sqlite:///{db}", "table": "customers"})
    assert data.rows == 4
    assert data.feature_names == ("age",)


def test_sqlite_query_source_relative_to_spec(tmp_path: Path) -> None:
    _sqlite(tmp_path)
    data = _load(
        tmp_path,
        party={
            "data": "sqlite:///bank.db",
            "query": "SELECT id, age, y FROM customers WHERE age > 35",
        },
    )
    assert data.rows == 3


def test_sqlite_missing_table_lists_tables(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    message = _error(tmp_path, party={"data": f"sqlite:///{db}", "table": "clients"})
    assert "table 'clients' not found (tables: customers)" in message


def test_sqlite_bad_query_is_one_line(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    message = _error(tmp_path, party={"data": f"sqlite:///{db}", "query": "SELECT nope FROM x"})
    assert "SQL read failed" in message
