"""Down-sampled ROC/KS curves against sklearn's exact ones, and the rules that let them
leave the label holder: few enough points, each over enough rows, none on small splits."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn import metrics as skm

from vfl.curves import (
    MAX_POINTS,
    MIN_ROWS_PER_CLASS,
    MIN_ROWS_PER_POINT,
    binary_curves,
    curves_dict,
    curves_report,
)


def _scored(n: int, seed: int, separation: float = 1.0) -> tuple[NDArray[np.float64], ...]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(np.float64)
    logit = separation * (2 * y - 1) + rng.normal(size=n)
    return y, 1 / (1 + np.exp(-logit))


@pytest.mark.parametrize(
    ("n", "seed", "separation"), [(500, 0, 1.0), (2000, 1, 0.3), (5000, 2, 2.0)]
)
def test_area_under_the_down_sampled_roc_is_the_exact_auc(
    n: int, seed: int, separation: float
) -> None:
    y, p = _scored(n, seed, separation)
    curves = binary_curves(y, p)
    assert curves is not None
    assert curves.auc() == pytest.approx(skm.roc_auc_score(y, p), abs=0.01)
    fpr, tpr, _ = skm.roc_curve(y, p)
    exact_ks = float(np.max(tpr - fpr))
    # the coarse thresholds are a subset of the exact ones: never above, and close
    assert exact_ks - 0.05 <= curves.ks <= exact_ks + 1e-12


def test_each_point_lies_on_the_exact_roc_curve() -> None:
    y, p = _scored(1000, 3)
    curves = binary_curves(y, p)
    assert curves is not None
    fpr, tpr, _ = skm.roc_curve(y, p, drop_intermediate=False)
    for f, t in zip(curves.fpr, curves.tpr, strict=True):
        # a point of the exact step curve: same fpr, tpr between the step's ends
        on_step = tpr[np.isclose(fpr, f)]
        assert on_step.size and on_step.min() - 1e-12 <= t <= on_step.max() + 1e-12


def test_curves_run_from_nothing_to_everything_monotonically() -> None:
    y, p = _scored(800, 4)
    curves = binary_curves(y, p)
    assert curves is not None
    for column in (curves.depth, curves.fpr, curves.tpr):
        assert column[0] == 0.0 and column[-1] == 1.0
        assert all(a <= b for a, b in itertools.pairwise(column))


def test_no_more_than_max_points_and_each_step_spans_many_rows() -> None:
    y, p = _scored(10_000, 5)
    curves = binary_curves(y, p)
    assert curves is not None
    assert len(curves.depth) <= MAX_POINTS + 2
    steps = np.diff(np.asarray(curves.depth) * len(y)).round()
    assert steps.min() >= MIN_ROWS_PER_POINT


def test_a_small_split_gets_few_points_of_many_rows_each() -> None:
    y, p = _scored(300, 6)
    curves = binary_curves(y, p)
    assert curves is not None
    assert len(curves.depth) - 1 <= 300 // MIN_ROWS_PER_POINT
    assert np.diff(np.asarray(curves.depth) * len(y)).round().min() >= MIN_ROWS_PER_POINT


def test_one_row_cannot_be_read_off_the_curve() -> None:
    """The attack: move one row's score and see which points change. The exact curve
    moves at that row's rank; the down-sampled one only where a bucket's count changes,
    and never shows the score that moved."""
    y, p = _scored(2000, 7)
    moved = p.copy()
    moved[0] = 0.123456789
    before, after = binary_curves(y, p), binary_curves(y, moved)
    assert before is not None and after is not None
    sent = {*after.depth, *after.fpr, *after.tpr}
    assert 0.123456789 not in sent and float(p[0]) not in sent
    changed = [a != b for a, b in zip(before.tpr + before.fpr, after.tpr + after.fpr, strict=True)]
    # at most the buckets the row left and entered, by one row's share of its class
    assert sum(changed) <= 4 * MIN_ROWS_PER_POINT
    gaps = np.abs(np.subtract(before.tpr + before.fpr, after.tpr + after.fpr))
    assert gaps.max() <= 1 / min((y == 1).sum(), (y == 0).sum()) + 1e-12


def test_tied_scores_still_give_steps_of_many_rows() -> None:
    rng = np.random.default_rng(10)
    y = (rng.random(1000) < 0.5).astype(np.float64)
    p = np.round(rng.random(1000) * 0.3 + 0.5 * y, 2)  # a few dozen distinct scores
    p[:95] = 0.77  # one large tied block
    curves = binary_curves(y, p)
    assert curves is not None
    steps = np.diff(np.asarray(curves.depth) * len(y)).round()
    assert steps.min() >= MIN_ROWS_PER_POINT
    assert curves.auc() == pytest.approx(skm.roc_auc_score(y, p), abs=0.02)


@pytest.mark.parametrize("positives", [0, 1, MIN_ROWS_PER_CLASS - 1])
def test_too_few_rows_of_a_class_yield_no_curve(positives: int) -> None:
    y = np.r_[np.ones(positives), np.zeros(500)]
    p = np.linspace(0, 1, len(y))
    assert binary_curves(y, p) is None
    assert binary_curves(1 - y, p) is None


def test_the_minimum_rows_of_each_class_yield_a_curve() -> None:
    y = np.r_[np.ones(MIN_ROWS_PER_CLASS), np.zeros(MIN_ROWS_PER_CLASS)]
    p = np.r_[np.linspace(0.5, 1, MIN_ROWS_PER_CLASS), np.linspace(0, 0.6, MIN_ROWS_PER_CLASS)]
    curves = binary_curves(y, p)
    assert curves is not None and len(curves.depth) >= 3


def test_only_binary_tasks_report_curves() -> None:
    y, p = _scored(500, 8)
    assert curves_report("regression", "validation", y, p) is None
    report = curves_report("binary", "validation", y, p)
    assert report is not None and report.split == "validation"


def test_result_block_has_roc_and_ks_with_the_largest_gap() -> None:
    y, p = _scored(1000, 9)
    curves = binary_curves(y, p)
    assert curves is not None
    block = curves_dict(curves)
    assert block["roc"] == {"fpr": list(curves.fpr), "tpr": list(curves.tpr)}
    ks = block["ks"]
    assert isinstance(ks, dict) and ks["ks"] == curves.ks
    at = list(curves.depth).index(ks["at_depth"])
    assert curves.tpr[at] - curves.fpr[at] == curves.ks
