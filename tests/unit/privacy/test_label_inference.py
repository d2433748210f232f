"""Label inference by a feature holder, mounted on real runs of the split programs.

Each claim about label-DP is shown next to its broken variant: the same attack on the same
data without label-DP reads the labels (AUC ≥ 0.9), and with label-DP at ε = 1 it is near
a coin (≤ 0.6; with ~1600 training rows the null AUC has std ~0.02, so 0.6 is 5 std).
Plain mode runs through `vfl.api.audit` itself; Paillier through the small-key harness.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import numpy as np
import pytest

from tests.factories import job_dict, job_spec
from tests.unit.privacy.harness import audit_run, leaky_binary
from vfl.api import audit
from vfl.config.job_spec import Protection, VerticalJobSpec
from vfl.errors import ConfigError
from vfl.privacy.attacks.base import AttackName
from vfl.privacy.attacks.label_inference import (
    CosineLabelInference,
    NormLabelInference,
    polarity_free_auc,
)
from vfl.privacy.audit import DEFAULT_ATTACKS, applicable, mount
from vfl.privacy.received import EXTRACTORS, ReceivedGradient
from vfl.result import AttackFinding

ATTACKS = [AttackName.NORM_LABEL_INFERENCE, AttackName.COSINE_LABEL_INFERENCE]
MODEL = {"bottom_hidden": [16], "cut_width": 16, "top_hidden": [16]}
"""Wide enough that few examples sit behind dead ReLUs (a zero top-model Jacobian gives a
zero gradient whatever the label, which blurs the norm attack on the factory's 4-wide
cut layer)."""


def _spec(paths: dict[str, Path], protection: str, epsilon: float | None) -> VerticalJobSpec:
    train: dict[str, Any] = {"epochs": 2, "batch_size": 64, "protection": protection}
    if protection == "paillier":
        train["workers"] = 1
    privacy = {} if epsilon is None else {"label_dp_epsilon": epsilon}
    return job_spec(job_dict(paths, model=MODEL, train=train, privacy=privacy))


def _value(findings: list[AttackFinding], attack: AttackName) -> float:
    (found,) = [f for f in findings if f.attack == attack.value]
    assert (found.attacker, found.target, found.metric) == ("shop", "bank", "auc")
    assert len(found.per_epoch) == 2
    return found.value


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[AttackFinding]]:
    root = tmp_path_factory.mktemp("plain")
    paths = leaky_binary(root / "data", rows=2000)
    out = {}
    for name, epsilon in (("exact", None), ("private", 1.0)):
        result = audit(_spec(paths, "none", epsilon), workdir=root / name)
        assert result.status == "succeeded", result.error
        out[name] = result.privacy.attacks
    return out


@pytest.fixture(scope="module")
def paillier(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[AttackFinding]]:
    root = tmp_path_factory.mktemp("paillier")
    paths = leaky_binary(root / "data", rows=2000)
    out = {}
    for name, epsilon in (("exact", None), ("private", 1.0)):
        run, _ = audit_run(_spec(paths, "paillier", epsilon), root / name)
        out[name] = mount(run, DEFAULT_ATTACKS)
    return out


@pytest.mark.parametrize("attack", ATTACKS)
def test_plain_gradients_leak_labels_and_label_dp_at_epsilon_1_stops_it(
    plain: dict[str, list[AttackFinding]], attack: AttackName
) -> None:
    assert _value(plain["exact"], attack) >= 0.9
    assert _value(plain["private"], attack) <= 0.6


@pytest.mark.parametrize("attack", ATTACKS)
def test_decrypted_paillier_gradients_leak_labels_and_label_dp_stops_it(
    paillier: dict[str, list[AttackFinding]], attack: AttackName
) -> None:
    """Paillier hides the gradient from everyone but F, who decrypts it to train: F's
    view is the plain view, and only label-DP protects the labels from it."""
    assert _value(paillier["exact"], attack) >= 0.9
    assert _value(paillier["private"], attack) <= 0.6


def _gradient(epoch: int, rows: list[int], values: list[list[float]]) -> ReceivedGradient:
    return ReceivedGradient(epoch, 0, np.array(rows), np.array(values, dtype=np.float64))


def test_auc_is_polarity_free_and_undefined_on_one_class() -> None:
    positive = np.array([True, True, False, False])
    assert polarity_free_auc(positive, np.array([0.9, 0.8, 0.1, 0.2])) == 1.0
    assert polarity_free_auc(positive, np.array([0.1, 0.2, 0.9, 0.8])) == 1.0
    assert polarity_free_auc(positive, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert polarity_free_auc(np.array([True, True]), np.array([0.1, 0.2])) is None


def test_norm_scores_are_row_norms() -> None:
    g = _gradient(0, [3, 1], [[3.0, 4.0], [0.0, 1.0]])
    rows, scores = NormLabelInference().batch_scores(g, np.zeros(4, dtype=bool))
    assert rows.tolist() == [3, 1] and scores.tolist() == [5.0, 1.0]


def test_cosine_scores_use_the_first_known_positive_and_leave_it_out() -> None:
    positive = np.array([False, True, False, True])
    g = _gradient(0, [0, 1, 2, 3], [[-1.0, 0.0], [2.0, 0.0], [0.0, 3.0], [1.0, 1.0]])
    rows, scores = CosineLabelInference().batch_scores(g, positive)
    assert rows.tolist() == [0, 2, 3]
    np.testing.assert_allclose(scores, [-1.0, 0.0, 2**-0.5])
    no_positive = _gradient(0, [0, 2], [[1.0, 0.0], [0.0, 1.0]])
    rows, scores = CosineLabelInference().batch_scores(no_positive, positive)
    assert len(rows) == len(scores) == 0


def test_every_protection_has_an_extractor_of_the_feature_holders_view() -> None:
    assert set(EXTRACTORS) == set(get_args(Protection))


def test_an_audit_with_no_applicable_attack_is_a_one_line_config_error(tmp_path: Path) -> None:
    paths = leaky_binary(tmp_path, rows=40)
    spec = job_spec(job_dict(paths, model={"kind": "linear_regression", "task": "regression"}))
    with pytest.raises(ConfigError, match="no audit attack applies to this job") as caught:
        applicable(spec, [NormLabelInference()], "job.toml")
    assert "\n" not in str(caught.value)
