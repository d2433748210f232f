"""Byzantine-robust aggregation rules: each needs every party's update in the clear, so a
job refuses them together with secure aggregation (the aggregator sees only the sum).

All rules ignore sample counts: a poisoning party would simply claim a large one.

- coordinate median: the per-coordinate median of the updates (Yin et al. 2018);
- trimmed mean: per coordinate, drop the `trim` fraction of largest and of smallest values
  and average the rest (Yin et al. 2018);
- Krum / Multi-Krum (Blanchard et al. 2017): score each update by the sum of squared
  distances to its n − f − 2 nearest others, f the number of parties assumed hostile;
  Krum takes the best-scored update, Multi-Krum averages the m best.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vfl.algorithms.horizontal.strategies import Vector
from vfl.config.horizontal_spec import RobustRule
from vfl.errors import ConfigError


@dataclass(frozen=True)
class RobustParams:
    """How many parties a rule is built to withstand, and what it keeps."""

    trim: float = 0.1
    """Trimmed mean: fraction dropped at each end, per coordinate (0 ≤ trim < 0.5)."""
    byzantine: int = 1
    """Krum: f, the number of hostile parties assumed (needs n ≥ 2f + 3)."""
    keep: int = 0
    """Multi-Krum: m, the updates averaged (0: n − f)."""


def aggregate(rule: RobustRule, updates: Sequence[Vector], params: RobustParams) -> Vector:
    """One robust update out of the parties' updates."""
    stacked = np.stack(updates)
    if rule is RobustRule.MEDIAN:
        return np.asarray(np.median(stacked, axis=0), dtype=np.float64)
    if rule is RobustRule.TRIMMED_MEAN:
        return _trimmed_mean(stacked, params.trim)
    chosen = _krum_order(stacked, params.byzantine)
    if rule is RobustRule.KRUM:
        return np.asarray(stacked[chosen[0]], dtype=np.float64)
    keep = params.keep or len(updates) - params.byzantine
    return np.asarray(stacked[chosen[:keep]].mean(axis=0), dtype=np.float64)


def _trimmed_mean(stacked: Vector, trim: float) -> Vector:
    n = stacked.shape[0]
    cut = math.floor(trim * n)
    if n - 2 * cut < 1:
        raise ConfigError(f"train.trim = {trim} drops every one of {n} updates; lower it")
    ordered = np.sort(stacked, axis=0)
    return np.asarray(ordered[cut : n - cut].mean(axis=0), dtype=np.float64)


def _krum_order(stacked: Vector, byzantine: int) -> list[int]:
    """Indices of the updates, best Krum score first."""
    n = stacked.shape[0]
    neighbours = n - byzantine - 2
    if neighbours < 1:
        raise ConfigError(
            f"Krum with {byzantine} hostile parties needs at least {2 * byzantine + 3} "
            f"updates a round, got {n}; lower train.byzantine or sample more parties"
        )
    squared = np.sum((stacked[:, None, :] - stacked[None, :, :]) ** 2, axis=-1)
    scores = []
    for i in range(n):
        others = np.delete(squared[i], i)
        scores.append(float(np.sort(others)[:neighbours].sum()))
    return sorted(range(n), key=lambda i: (scores[i], i))
