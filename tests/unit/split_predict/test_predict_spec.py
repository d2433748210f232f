"""`[predict]` in a vertical spec: the prediction plan, and one-line errors for what
cannot work, before any party reads data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import job_dict, job_spec
from tests.unit.split_predict.harness import predict_dict
from vfl.config.phase_plan import Phase, job_plan, plan_for
from vfl.errors import ConfigError

PATHS = {"bank": Path("bank.csv"), "shop": Path("shop.csv")}


def _spec(**predict: Any) -> dict[str, Any]:
    return predict_dict(job_dict(PATHS), PATHS, **predict)


def test_a_prediction_job_aligns_then_predicts_and_its_json_says_so() -> None:
    spec = job_spec(_spec(model="m", output="s.csv"))
    assert spec.phases == (Phase.ALIGN, Phase.PREDICT)
    assert job_plan("vertical", spec.model_dump_json()).phases == spec.phases
    training = job_spec(job_dict(PATHS))
    assert "predict" not in training.model_dump_json()  # its digest is unchanged
    assert job_plan("vertical", training.model_dump_json()) == plan_for("vertical")
    assert spec.deliver_to == "bank"


def test_transfer_has_no_prediction_plan() -> None:
    with pytest.raises(ConfigError, match="not a mode with prediction jobs"):
        plan_for("transfer", predicting=True)


@pytest.mark.parametrize(
    ("predict", "message"),
    [
        ({"model": "m", "output": "s.csv", "deliver_to": "nobody"}, "is not a party"),
        ({"model": "m", "output": "s.txt"}, "neither .csv nor .parquet"),
        ({"model": "m", "output": "sqlite:///x.db"}, "a SQL URL needs `table`"),
        ({"model": "m", "output": "s.csv", "table": "t"}, "only to SQL URLs"),
        ({"model": "../m", "output": "s.csv"}, "predict.model"),
        ({"model": "m", "output": "s.csv", "chunk_rows": 0}, "chunk_rows"),
        (
            {"model": "m", "output": "s.csv", "deliver_to": "shop", "missing_party_rows": "impute"},
            "deliver_to must be 'bank'",
        ),
    ],
)
def test_predict_table_errors_are_one_line(predict: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        job_spec(_spec(**predict))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value).strip()


def test_without_labels_a_prediction_job_needs_an_output() -> None:
    raw = _spec(model="m")
    del raw["parties"][0]["label_column"]
    with pytest.raises(ConfigError, match="needs `output`"):
        job_spec(raw)
    raw["predict"]["output"] = "s.csv"
    assert job_spec(raw).parties[0].label_column is None
