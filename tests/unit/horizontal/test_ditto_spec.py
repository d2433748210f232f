"""`personalization = "ditto"` in a job spec: λ must be positive, and what does not go with
Ditto is refused in one line naming the field and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict
from vfl.config.horizontal_spec import Personalization
from vfl.config.job_spec import horizontal
from vfl.config.loading import load_job
from vfl.errors import ConfigError


def _spec(tmp_path: Path, **train: Any) -> Path:
    paths = {"site-a": tmp_path / "a.csv", "site-b": tmp_path / "b.csv"}
    spec = horizontal_dict(paths, train={"personalization": "ditto", **train})
    return write_toml(tmp_path / "job.toml", spec)


def _error(tmp_path: Path, **train: Any) -> str:
    path = _spec(tmp_path, **train)
    with pytest.raises(ConfigError) as info:
        load_job(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_ditto_loads_with_its_lambda(tmp_path: Path) -> None:
    spec = horizontal(load_job(_spec(tmp_path, ditto_lambda=0.3)))
    assert spec.train.personalization is Personalization.DITTO
    assert spec.train.ditto_lambda == 0.3


@pytest.mark.parametrize("value", [0, -1.5])
def test_a_lambda_not_above_zero_is_refused(tmp_path: Path, value: float) -> None:
    message = _error(tmp_path, ditto_lambda=value)
    assert "train.ditto_lambda" in message and "greater than 0" in message


def test_ditto_with_asynchronous_rounds_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, asynchronous=True, secure_aggregation=False)
    assert "no rounds in lockstep: set asynchronous = false to use ditto" in message


def test_finetunes_epochs_with_ditto_are_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, personal_epochs=3)
    assert "train: personal_epochs is finetune's" in message


def test_a_lambda_that_makes_sgd_overshoot_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, ditto_lambda=25, learning_rate=0.1)
    assert "learning_rate × ditto_lambda ≥ 2 (found 2.5)" in message
    horizontal(load_job(_spec(tmp_path, ditto_lambda=25, learning_rate=0.1, optimizer="adam")))
