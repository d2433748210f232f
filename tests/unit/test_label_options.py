"""The label holder's `positive_label` and `missing_label`: string and empty labels need
an option in the job spec, not an edit of the source; errors stay one line, no values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from parties.data import load_dataset
from tests.factories import job_dict, job_spec
from vfl.errors import ConfigError, DataValidationError


def _load(tmp_path: Path, labels: list[Any], **party: Any) -> Any:
    path = tmp_path / "bank.csv"
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "age": [30, 40, 50, 60], "y": labels})
    frame.to_csv(path, index=False)
    spec_dict = job_dict({"bank": path, "shop": tmp_path / "shop.csv"})
    spec_dict["parties"][0].update(party)
    spec = job_spec(spec_dict, tmp_path)
    return load_dataset(spec, spec.parties[0])


def _error(tmp_path: Path, labels: list[Any], **party: Any) -> str:
    with pytest.raises(DataValidationError) as info:
        _load(tmp_path, labels, **party)
    message = str(info.value)
    assert "\n" not in message and message.startswith("bank.csv")
    return message


def test_string_labels_map_to_one_for_the_positive_label(tmp_path: Path) -> None:
    data = _load(tmp_path, ["yes", "no", " yes", "no"], positive_label="yes")
    assert data.labels.tolist() == [1, 0, 1, 0]


def test_numeric_labels_map_to_one_for_the_positive_label(tmp_path: Path) -> None:
    data = _load(tmp_path, [2, 4, 4, 2], positive_label=4)
    assert data.labels.tolist() == [0, 1, 1, 0]


def test_a_positive_label_the_column_never_holds_is_named(tmp_path: Path) -> None:
    message = _error(tmp_path, ["yes", "no", "no", "no"], positive_label="Yes")
    assert "never holds positive_label of party 'bank' (2 distinct values found)" in message
    assert "yes" not in message.lower().replace("positive_label", "")


def test_string_labels_without_a_positive_label_say_to_map_them(tmp_path: Path) -> None:
    assert "not numeric" in _error(tmp_path, ["yes", "no", "no", "yes"])


def test_a_missing_label_fails_with_the_count_and_the_policy(tmp_path: Path) -> None:
    message = _error(tmp_path, [0, None, None, 1])
    assert "label column 'y' has 2 missing values" in message
    assert "set missing_label = \"drop\" for party 'bank'" in message


def test_missing_label_drop_leaves_those_rows_out(tmp_path: Path) -> None:
    data = _load(tmp_path, ["yes", None, "no", "yes"], positive_label="yes", missing_label="drop")
    assert data.ids == ("a", "c", "d")
    assert data.labels.tolist() == [1, 0, 1]


def test_label_options_on_a_party_without_labels_are_refused(tmp_path: Path) -> None:
    spec_dict = job_dict({"bank": tmp_path / "b.csv", "shop": tmp_path / "s.csv"})
    spec_dict["parties"][1]["positive_label"] = "yes"
    with pytest.raises(ConfigError, match="apply only with label_column"):
        job_spec(spec_dict)


def test_unset_label_options_leave_the_spec_json_unchanged(tmp_path: Path) -> None:
    paths = {"bank": tmp_path / "b.csv", "shop": tmp_path / "s.csv"}
    plain = job_spec(job_dict(paths)).model_dump_json()
    assert "positive_label" not in plain and "missing_label" not in plain
    explicit = job_dict(paths)
    explicit["parties"][0]["missing_label"] = "error"
    assert job_spec(explicit).model_dump_json() == plain
