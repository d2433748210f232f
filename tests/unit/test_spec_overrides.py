"""Overrides from Python (`load_job(path, overrides=...)`, `spec.with_overrides(...)`) are
validated as the TOML is: each mistake is the same one-line ConfigError."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.factories import write_toml
from vfl.config.job_spec import VerticalJobSpec, VerticalTrainSpec, vertical
from vfl.config.loading import load_job
from vfl.errors import ConfigError


def _spec_dict() -> dict[str, Any]:
    return {
        "job": {"name": "j", "seed": 1},
        "parties": [
            {
                "name": "bank",
                "role": "label_holder",
                "data": "a.csv",
                "id_column": "id",
                "label_column": "y",
            },
            {"name": "shop", "role": "feature_holder", "data": "b.csv", "id_column": "id"},
        ],
        "train": {"epochs": 2, "protection": "none"},
    }


@pytest.fixture
def spec(tmp_path: Path) -> VerticalJobSpec:
    return vertical(load_job(write_toml(tmp_path / "job.toml", _spec_dict())))


def _override_error(spec: VerticalJobSpec, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        spec.with_overrides(overrides)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("overrides: ")
    return message


def _toml_error(tmp_path: Path, section: str, key: str, value: Any) -> str:
    data = copy.deepcopy(_spec_dict())
    data.setdefault(section, {})[key] = value
    path = write_toml(tmp_path / "bad.toml", data)
    with pytest.raises(ConfigError) as info:
        load_job(path)
    return str(info.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("epoch", 3, "epoch: unknown field (did you mean 'train.epochs'?)"),
        ("train.epoch", 3, "train.epoch: unknown field (did you mean 'epochs'?)"),
        (
            "train.learning_rate",
            -0.1,
            "train.learning_rate: Input should be greater than 0 (found -0.1)",
        ),
        (
            "train.epochs",
            "three",
            "train.epochs: Input should be a valid integer, unable to parse string as an "
            "integer (found 'three')",
        ),
        ("train.epochs", 0, "train.epochs: Input should be greater than or equal to 1 (found 0)"),
    ],
)
def test_each_bad_override_is_one_line(
    spec: VerticalJobSpec, key: str, value: Any, expected: str
) -> None:
    assert _override_error(spec, {key: value}) == f"overrides: {expected}"


@pytest.mark.parametrize(
    ("key", "value"), [("epoch", 3), ("learning_rate", -0.1), ("epochs", "three")]
)
def test_an_override_fails_as_the_same_value_in_toml_does(
    tmp_path: Path, spec: VerticalJobSpec, key: str, value: Any
) -> None:
    from_python = _override_error(spec, {f"train.{key}": value}).removeprefix("overrides: ")
    assert from_python == _toml_error(tmp_path, "train", key, value)


def test_overrides_change_only_what_they_name(spec: VerticalJobSpec) -> None:
    changed = spec.with_overrides(
        {"train.epochs": 3, "train.learning_rate": 0.05, "parties.1.missing": "zero"}
    )
    assert isinstance(changed, VerticalJobSpec)
    assert (changed.train.epochs, changed.train.learning_rate) == (3, 0.05)
    assert changed.parties[1].missing == "zero"
    assert changed.train.protection == "none" and changed.base_dir == spec.base_dir
    assert spec.train.epochs == 2  # the original is untouched (specs are frozen)
    merged = spec.with_overrides({"train": {"batch_size": 64}})  # a table merges
    assert (merged.train.batch_size, merged.train.epochs) == (64, 2)
    assert spec.with_overrides({}).model_dump_json() == spec.model_dump_json()


def test_load_job_takes_overrides_and_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path / "job.toml", _spec_dict())
    assert load_job(path, overrides={"train.epochs": 4}).train.epochs == 4
    with pytest.raises(ConfigError) as info:
        load_job(path, overrides={"train.learning_rate": -1})
    assert str(info.value) == (
        f"{path} (overrides): train.learning_rate: Input should be greater than 0 (found -1)"
    )


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"train.epochs.x": 1}, "train.epochs.x: the value before 'x' is 2, not a table"),
        ({"parties.5.missing": "zero"}, "parties.5: '5' is not an index"),
        ({"train..epochs": 1}, "is not a field path"),
        ({"train": VerticalTrainSpec(epochs=5)}, "train: found a VerticalTrainSpec"),
    ],
)
def test_malformed_paths_are_one_line(
    spec: VerticalJobSpec, overrides: dict[str, Any], fragment: str
) -> None:
    assert fragment in _override_error(spec, overrides)
