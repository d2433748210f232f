"""Bad transfer input is a one-line error that names the field or the peer and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parties.programs import check_runnable
from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from vfl.algorithms.transfer import source as source_module
from vfl.algorithms.transfer import target as target_module
from vfl.algorithms.transfer.messages import ClassSummary, TransferHello
from vfl.api import simulate
from vfl.config.loading import parse_job
from vfl.errors import ConfigError


def _one_line(text: str | None) -> str:
    assert text is not None and "\n" not in text, text
    return text


def _config_error(spec: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_job(spec, source="job.toml")
    return _one_line(str(caught.value))


def test_a_target_with_a_label_column_is_refused(tmp_path: Path) -> None:
    spec = transfer_dict(synthetic_transfer(tmp_path))
    spec["parties"][1]["label_column"] = "y"
    assert "a target holds no labels" in _config_error(spec)


def test_regression_is_refused_with_the_reason(tmp_path: Path) -> None:
    spec = transfer_dict(synthetic_transfer(tmp_path), model={"task": "regression"})
    message = _config_error(spec)
    assert "regression" in message and "class summary" in message


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ({"representation_width": 0}, "representation_width"),
        ({"representation_width": 5000}, "representation_width"),
        ({"hidden": [0]}, "hidden"),
        ({"common_width": 8}, "renamed"),
        ({"kind": "split_nn"}, "kind"),
    ],
)
def test_invalid_widths_are_refused(tmp_path: Path, model: dict[str, object], needle: str) -> None:
    spec = transfer_dict(synthetic_transfer(tmp_path), model=model)
    assert needle in _config_error(spec)


@pytest.mark.parametrize(
    ("model", "train", "needle"),
    [
        ({"task": "multiclass", "hidden": []}, {}, "model.task: 'multiclass' under"),
        ({"hidden": [6]}, {}, "model.hidden: [6] under train.protection = 'paillier'"),
        ({"hidden": []}, {"local_rounds": 3}, "train.local_rounds: 3 under"),
        ({"hidden": []}, {"loss": "logistic"}, "train.loss: 'logistic' under"),
    ],
)
def test_paillier_refuses_what_it_cannot_train_before_any_data_is_read(
    tmp_path: Path, model: dict[str, object], train: dict[str, object], needle: str
) -> None:
    spec = transfer_spec(
        transfer_dict(
            synthetic_transfer(tmp_path), model=model, train={"protection": "paillier", **train}
        )
    )
    with pytest.raises(ConfigError) as caught:
        check_runnable(spec)
    assert needle in _one_line(str(caught.value))


def test_a_taylor_loss_for_multiclass_is_refused(tmp_path: Path) -> None:
    spec = transfer_spec(
        transfer_dict(
            synthetic_transfer(tmp_path), model={"task": "multiclass"}, train={"loss": "taylor"}
        )
    )
    with pytest.raises(ConfigError) as caught:
        check_runnable(spec)
    assert "train.loss: 'taylor'" in _one_line(str(caught.value))


def test_a_paillier_key_below_the_minimum_is_refused(tmp_path: Path) -> None:
    spec = transfer_dict(
        synthetic_transfer(tmp_path),
        model={"hidden": []},
        train={"protection": "paillier", "key_bits": 1024},
    )
    assert "key_bits" in _config_error(spec)


def test_no_overlap_fails_the_job_in_one_line(tmp_path: Path) -> None:
    paths = synthetic_transfer(tmp_path)
    target = pd.read_csv(paths["target"])
    target["id"] = "other-" + target["id"]
    target.to_csv(paths["target"], index=False)
    result = simulate(transfer_spec(transfer_dict(paths)), workdir=tmp_path / "run")
    assert result.status == "failed"
    assert "share no IDs" in _one_line(result.error)


def test_a_target_announcing_another_width_is_refused_by_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target handed another spec (or a hostile one) says its width in TransferHello."""

    def other_width(rows: int, width: int) -> TransferHello:
        return TransferHello(rows=rows, width=width + 1)

    monkeypatch.setattr(target_module, "TransferHello", other_width)
    result = simulate(
        transfer_spec(transfer_dict(synthetic_transfer(tmp_path))), workdir=tmp_path / "run"
    )
    assert result.status == "failed"
    message = _one_line(result.error)
    assert "party source" in message and "representation width 5" in message


def test_a_class_summary_of_the_wrong_shape_is_refused_by_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source handed another spec (or a hostile one) sends Φ of another width."""

    def wider(summary: np.ndarray, classes: np.ndarray) -> ClassSummary:
        return ClassSummary(np.zeros((1, summary.shape[1] + 2), np.float32), classes)

    monkeypatch.setattr(source_module, "ClassSummary", wider)
    result = simulate(
        transfer_spec(transfer_dict(synthetic_transfer(tmp_path))), workdir=tmp_path / "run"
    )
    assert result.status == "failed"
    message = _one_line(result.error)
    assert "party target" in message and "transfer.ClassSummary from source" in message
    assert not list((tmp_path / "run" / "target").rglob("predictions*"))
