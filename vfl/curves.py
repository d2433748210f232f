"""ROC and KS curves of a binary task, down-sampled so they can leave the label holder.

The exact ROC curve has one point per distinct score: read next to the row count it says,
row by row, which label sits at which rank, and its thresholds are the scores themselves.
What leaves instead is cut at fixed quantiles of the scores: each point says what share
of positives and of negatives score at or above the k-th quantile, i.e. a count over a
bucket of at least `MIN_ROWS_PER_POINT` rows. No score value is sent (the x axis of the
KS curve is the quantile's depth, a fraction of rows), and a split with fewer than
`MIN_ROWS_PER_CLASS` rows of either class yields no curve at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vfl.config.job_spec import Task
from vfl.runtime.events import CurvesReport

MAX_POINTS = 64
"""Most quantile thresholds a curve is cut at (the end points (0, 0) and (1, 1) add two)."""
MIN_ROWS_PER_CLASS = 20
"""A split with fewer positives or negatives than this yields no curve."""
MIN_ROWS_PER_POINT = 10
"""Each step between thresholds spans at least this many rows (fewer points on small splits)."""


@dataclass(frozen=True)
class Curves:
    """At each threshold, from the highest score down: the share of all rows scoring at or
    above it (`depth`), of the negatives (`fpr`) and of the positives (`tpr`). ROC is
    (fpr, tpr); KS is tpr and fpr against depth, its statistic the largest gap."""

    depth: tuple[float, ...]
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]

    @property
    def ks(self) -> float:
        return max(t - f for t, f in zip(self.tpr, self.fpr, strict=True))

    def auc(self) -> float:
        """Trapezoidal area under the down-sampled ROC curve."""
        from sklearn import metrics as skm  # noqa: PLC0415  (the coordinator reads MAX_POINTS only; sklearn pulls in pandas)

        return float(skm.auc(self.fpr, self.tpr))


def binary_curves(
    y: NDArray[np.float64], scores: NDArray[np.float64], points: int = MAX_POINTS
) -> Curves | None:
    """The curves of scores `scores` (higher: more likely positive) against 0/1 labels `y`,
    or None when a class has fewer than `MIN_ROWS_PER_CLASS` rows."""
    y = np.asarray(y, dtype=np.float64).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    positives = int((y == 1).sum())
    negatives = len(y) - positives
    if min(positives, negatives) < MIN_ROWS_PER_CLASS:
        return None
    steps = max(1, min(points, len(y) // MIN_ROWS_PER_POINT))
    # thresholds from the highest quantile down, so each point adds about len(y)/steps rows
    levels = np.linspace(1.0, 0.0, steps + 1)[1:-1]
    thresholds = np.quantile(scores, levels)
    depth, fpr, tpr = [0.0], [0.0], [0.0]
    last = 0
    for t in thresholds:
        above = scores >= t
        count = int(above.sum())
        # tied scores can put two thresholds a few rows apart: skip any that would
        if count - last < MIN_ROWS_PER_POINT or len(y) - count < MIN_ROWS_PER_POINT:
            continue
        last = count
        depth.append(count / len(y))
        fpr.append(float((above & (y != 1)).sum() / negatives))
        tpr.append(float((above & (y == 1)).sum() / positives))
    depth.append(1.0)
    fpr.append(1.0)
    tpr.append(1.0)
    return Curves(tuple(depth), tuple(fpr), tuple(tpr))


def curves_report(
    task: Task, split: str, y: NDArray[np.float64], pred: NDArray[np.float64]
) -> CurvesReport | None:
    """The event a label holder reports for a held-out split: binary tasks only, and only
    when both classes have enough rows (`binary_curves`)."""
    if task != "binary":
        return None
    curves = binary_curves(y, pred)
    if curves is None:
        return None
    return CurvesReport(split, curves.depth, curves.fpr, curves.tpr)


def curves_dict(curves: Curves) -> dict[str, dict[str, Any]]:
    """The result JSON's block for one split: {"roc": {...}, "ks": {...}}."""
    at = int(np.argmax(np.subtract(curves.tpr, curves.fpr)))
    return {
        "roc": {"fpr": list(curves.fpr), "tpr": list(curves.tpr)},
        "ks": {
            "depth": list(curves.depth),
            "tpr": list(curves.tpr),
            "fpr": list(curves.fpr),
            "ks": curves.ks,
            "at_depth": curves.depth[at],
        },
    }
