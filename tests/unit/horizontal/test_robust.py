"""Robust rules: what each returns on small hand-checked inputs, and that one party sending
a scaled update moves the mean far but the robust rules hardly at all."""

from __future__ import annotations

import numpy as np
import pytest

from vfl.algorithms.horizontal.robust import RobustParams, aggregate
from vfl.config.horizontal_spec import RobustRule
from vfl.errors import ConfigError


def _v(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_median_and_trimmed_mean_per_coordinate() -> None:
    updates = [_v(1, 10), _v(2, 20), _v(3, 30), _v(100, -1000)]
    assert aggregate(RobustRule.MEDIAN, updates, RobustParams()).tolist() == [2.5, 15.0]
    trimmed = aggregate(RobustRule.TRIMMED_MEAN, updates, RobustParams(trim=0.25))
    assert trimmed.tolist() == [2.5, 15.0]  # drops 1 and 100, then -1000 and 30


def test_krum_picks_the_update_closest_to_its_neighbours_and_multi_krum_averages() -> None:
    updates = [_v(0, 0), _v(0.1, 0), _v(0, 0.1), _v(0.1, 0.1), _v(50, 50)]
    params = RobustParams(byzantine=1, keep=2)
    krum = aggregate(RobustRule.KRUM, updates, params)
    assert krum.tolist() in ([0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1])
    multi = aggregate(RobustRule.MULTI_KRUM, updates, params)
    assert np.all(np.abs(multi) <= 0.1)


@pytest.mark.parametrize("rule", list(RobustRule))
def test_a_scaled_poisoned_update_moves_the_mean_but_not_the_robust_rules(
    rule: RobustRule,
) -> None:
    rng = np.random.default_rng(3)
    honest = [rng.normal(1.0, 0.05, 20) for _ in range(6)]
    poisoned = [*honest, -100.0 * honest[0]]
    mean = np.mean(poisoned, axis=0)
    robust = aggregate(rule, poisoned, RobustParams(trim=0.2, byzantine=1))
    assert np.abs(mean - 1.0).max() > 10  # the control: the plain mean is ruined
    assert np.abs(robust - 1.0).max() < 0.2


def test_rules_that_cannot_hold_say_why() -> None:
    with pytest.raises(ConfigError, match="needs at least 5 updates a round, got 3"):
        aggregate(RobustRule.KRUM, [_v(0), _v(1), _v(2)], RobustParams(byzantine=1))
    with pytest.raises(ConfigError, match="drops every one of 2 updates"):
        aggregate(RobustRule.TRIMMED_MEAN, [_v(0), _v(1)], RobustParams(trim=0.5))
