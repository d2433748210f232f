"""Every job spec mistake gets one line naming the file, the field, what was found and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import write_toml
from vfl.config.job_spec import HorizontalJobSpec, VerticalJobSpec, vertical
from vfl.config.loading import load_job
from vfl.errors import ConfigError


def _base() -> dict[str, Any]:
    return {
        "job": {"name": "j", "mode": "vertical", "seed": 1},
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
        "align": {"protocol": "join"},
        "model": {"kind": "split_nn", "task": "binary"},
        "train": {"epochs": 2},
    }


def _error(tmp_path: Path, spec: dict[str, Any]) -> str:
    path = write_toml(tmp_path / "job.toml", spec)
    with pytest.raises(ConfigError) as info:
        load_job(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


def test_valid_spec_loads_and_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    spec = vertical(load_job(write_toml(tmp_path / "job.toml", _base())))
    assert spec.base_dir == tmp_path.resolve()
    assert spec.label_holder.name == "bank"
    assert [p.name for p in spec.feature_holders] == ["shop"]
    assert spec.train.protection == "paillier"  # secure by default (DESIGN §6.2)
    assert spec.train.key_bits == 2048


def test_typo_in_a_field_suggests_the_right_name(tmp_path: Path) -> None:
    spec = _base()
    spec["train"] = {"epoch": 3}
    assert "train.epoch: unknown field (did you mean 'epochs'?)" in _error(tmp_path, spec)


def test_out_of_range_value_names_field_and_value(tmp_path: Path) -> None:
    spec = _base()
    spec["train"] = {"epochs": 0}
    message = _error(tmp_path, spec)
    assert "train.epochs" in message
    assert "greater than or equal to 1" in message
    assert "found 0" in message


def test_unknown_role_lists_the_allowed_roles(tmp_path: Path) -> None:
    spec = _base()
    spec["parties"][1]["role"] = "boss"
    message = _error(tmp_path, spec)
    assert "parties[1].role" in message
    assert "'label_holder' or 'feature_holder'" in message


def test_missing_required_field_is_named(tmp_path: Path) -> None:
    spec = _base()
    del spec["parties"][0]["id_column"]
    assert "parties[0].id_column: required field is missing" in _error(tmp_path, spec)


def test_vertical_job_needs_exactly_one_label_holder(tmp_path: Path) -> None:
    spec = _base()
    spec["parties"][1]["role"] = "label_holder"
    spec["parties"][1]["label_column"] = "y"
    assert "exactly one label_holder, found 2" in _error(tmp_path, spec)


def test_label_column_on_feature_holder_is_rejected(tmp_path: Path) -> None:
    spec = _base()
    spec["parties"][1]["label_column"] = "y"
    assert "party 'shop': only the label_holder may set label_column" in _error(tmp_path, spec)


def test_duplicate_party_names_are_rejected(tmp_path: Path) -> None:
    spec = _base()
    spec["parties"][1]["name"] = "bank"
    assert "party names must be unique, found bank twice" in _error(tmp_path, spec)


def test_preset_and_task_must_agree(tmp_path: Path) -> None:
    spec = _base()
    spec["model"] = {"kind": "linear_regression", "task": "binary"}
    assert "linear_regression needs task = 'regression'" in _error(tmp_path, spec)


def test_sql_source_needs_table_or_query(tmp_path: Path) -> None:
    spec = _base()
    spec["parties"][1]["data"] = "sqlite:///shop.db"
    assert "needs exactly one of `table` or `query`" in _error(tmp_path, spec)


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "job.toml"
    path.write_text("[job\nname = 1\n")
    with pytest.raises(ConfigError, match=r"job\.toml: not valid TOML"):
        load_job(path)


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_job(tmp_path / "absent.toml")


def test_party_name_pattern_is_enforced(tmp_path: Path) -> None:
    spec = _base()
    spec["parties"][1]["name"] = "Shop Inc"
    message = _error(tmp_path, spec)
    assert "parties[1].name" in message
    assert "'Shop Inc'" in message


def test_removed_gradient_noise_points_to_label_dp(tmp_path: Path) -> None:
    spec = _base()
    spec["train"] = {"gradient_noise": 0.1}
    message = _error(tmp_path, spec)
    assert "train: gradient_noise was removed" in message
    assert "[privacy] label_dp_epsilon" in message


def test_label_dp_target_and_expert_noise_are_exclusive(tmp_path: Path) -> None:
    spec = _base()
    spec["privacy"] = {"label_dp_epsilon": 1.0, "noise_multiplier": 2.0}
    assert "privacy: set label_dp_epsilon (calibrated noise) or noise_multiplier" in _error(
        tmp_path, spec
    )


def test_label_dp_values_out_of_range_are_named(tmp_path: Path) -> None:
    for field, value in (("label_dp_epsilon", 0), ("label_dp_delta", 1), ("clip", -1.0)):
        spec = _base()
        spec["privacy"] = {field: value}
        message = _error(tmp_path, spec)
        assert f"privacy.{field}" in message and f"found {value!r}" in message


def test_privacy_typo_suggests_the_field(tmp_path: Path) -> None:
    spec = _base()
    spec["privacy"] = {"epsilon": 1.0}
    assert "privacy.epsilon: unknown field (did you mean 'label_dp_epsilon'?)" in _error(
        tmp_path, spec
    )


def _horizontal() -> dict[str, Any]:
    return {
        "job": {"name": "h", "mode": "horizontal"},
        "parties": [
            {"name": n, "role": "sample_holder", "data": f"{n}.csv", "id_column": "id",
             "label_column": "y"}
            for n in ("clinic-a", "clinic-b")
        ],
        "train": {"rounds": 2, "timeout_s": 30},
    }  # fmt: skip


def test_job_mode_defaults_to_vertical_and_picks_the_spec_class(tmp_path: Path) -> None:
    spec = _base()
    del spec["job"]["mode"]
    assert isinstance(load_job(write_toml(tmp_path / "v.toml", spec)), VerticalJobSpec)
    loaded = load_job(write_toml(tmp_path / "h.toml", _horizontal()))
    assert isinstance(loaded, HorizontalJobSpec)
    assert loaded.train.timeout_s == 30  # a common knob, in the common [train] section
    assert loaded.phases == ("train", "evaluate")


def test_horizontal_specs_say_what_does_not_go_together(tmp_path: Path) -> None:
    spec = _horizontal()
    spec["train"] = {"epochs": 3}
    assert "counts rounds, not epochs: set rounds and local_epochs" in _error(tmp_path, spec)
    spec["train"] = {"robust": "krum"}
    assert "train.robust 'krum' reads each party's model delta in the clear" in _error(
        tmp_path, spec
    )
    spec["train"] = {"min_parties": 3}
    assert "train.min_parties = 3 is more than the 2 parties" in _error(tmp_path, spec)
    spec["train"] = {"robust": "krum", "secure_aggregation": False, "rounds": 3}
    loaded = load_job(write_toml(tmp_path / "ok.toml", spec))
    assert isinstance(loaded, HorizontalJobSpec) and loaded.train.epochs == 3


def test_an_unknown_mode_lists_the_modes(tmp_path: Path) -> None:
    spec = _base()
    spec["job"]["mode"] = "diagonal"
    message = _error(tmp_path, spec)
    assert "job.mode" in message and "'vertical', 'horizontal' or 'transfer'" in message


def test_a_role_of_another_mode_names_the_mode_it_belongs_to(tmp_path: Path) -> None:
    spec = _base()
    spec["job"]["mode"] = "horizontal"
    message = _error(tmp_path, spec)
    assert "parties[0].role: 'label_holder' is a role of vertical jobs" in message
    assert "job.mode is 'horizontal' (its roles: sample_holder)" in message


def test_a_vertical_knob_in_a_horizontal_spec_says_which_modes_have_it(tmp_path: Path) -> None:
    spec = _horizontal()
    spec["train"]["protection"] = "paillier"
    message = _error(tmp_path, spec)
    assert "train.protection: only vertical and transfer jobs have this field" in message
    assert "job.mode is 'horizontal'" in message
    spec = _horizontal()
    spec["align"] = {"protocol": "ecdh"}
    assert "align: only vertical and transfer jobs have this field" in _error(tmp_path, spec)


def test_a_transfer_job_needs_one_source_with_labels_and_one_target(tmp_path: Path) -> None:
    spec = _base()
    spec["job"]["mode"] = "transfer"
    del spec["model"]  # a split model: vertical only
    spec["parties"][0]["role"] = "source"
    spec["parties"][1]["role"] = "source"
    assert "a transfer job needs exactly one source, found 2" in _error(tmp_path, spec)


def test_nesterov_without_momentum_names_the_fix(tmp_path: Path) -> None:
    spec = _base()
    spec["train"] = {"epochs": 2, "nesterov": True}
    message = _error(tmp_path, spec)
    assert "train.nesterov = true needs momentum, found train.momentum = 0; set " in message
