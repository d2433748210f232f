"""Metrics agree with their textbook definitions on small hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest

from vfl.metrics import compute_metrics


def test_binary_metrics_on_a_perfect_ranking() -> None:
    y = np.array([0, 0, 1, 1], float)
    m = compute_metrics("binary", y, np.array([0.1, 0.4, 0.6, 0.9]))
    assert m["auc"] == 1.0 and m["ks"] == 1.0 and m["accuracy"] == 1.0 and m["f1"] == 1.0


def test_binary_ks_and_auc_on_a_mixed_ranking() -> None:
    y = np.array([0, 1, 0, 1], float)
    m = compute_metrics("binary", y, np.array([0.2, 0.3, 0.6, 0.9]))
    assert m["auc"] == pytest.approx(0.75)
    assert m["ks"] == pytest.approx(0.5)


def test_single_class_omits_auc() -> None:
    m = compute_metrics("binary", np.array([1.0, 1.0]), np.array([0.7, 0.8]))
    assert "auc" not in m and m["accuracy"] == 1.0


def test_multiclass_accuracy_uses_class_order() -> None:
    p = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    m = compute_metrics("multiclass", np.array([3.0, 5.0, 9.0]), p, classes=(3.0, 5.0, 9.0))
    assert m["accuracy"] == 1.0


def test_regression_metrics() -> None:
    m = compute_metrics("regression", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    assert m["rmse"] == pytest.approx(np.sqrt(4 / 3))
    assert m["mae"] == pytest.approx(2 / 3)
    assert m["r2"] == pytest.approx(1 - 4 / 2)
