"""Evaluation metrics by task, from labels and predictions held by the label holder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from vfl.config.job_spec import Task

if TYPE_CHECKING:
    from types import ModuleType


def compute_metrics(
    task: Task, y: NDArray[np.float64], pred: NDArray[np.float64], classes: tuple[float, ...] = ()
) -> dict[str, float]:
    """Binary: AUC, KS, accuracy, F1, log loss. Multiclass: accuracy, macro F1, log loss.
    Regression: RMSE, MAE, R². Metrics undefined on the rows given (one class only) are omitted.
    """
    if len(y) == 0:
        return {}
    # imported on first use: sklearn pulls in scipy, ~1.8 s at every start of a party node
    # or coordinator, most of which never compute a metric
    from sklearn import metrics as skm  # noqa: PLC0415

    if task == "binary":
        return _binary(skm, y, pred)
    if task == "multiclass":
        return _multiclass(skm, y, pred, classes)
    return _regression(skm, y, pred)


def _binary(skm: ModuleType, y: NDArray[np.float64], p: NDArray[np.float64]) -> dict[str, float]:
    hard = (p >= 0.5).astype(np.float64)
    out = {
        "accuracy": float(skm.accuracy_score(y, hard)),
        "f1": float(skm.f1_score(y, hard, zero_division=0)),
        "log_loss": float(skm.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])),
    }
    if len(np.unique(y)) == 2:
        fpr, tpr, _ = skm.roc_curve(y, p)
        out["auc"] = float(skm.roc_auc_score(y, p))
        out["ks"] = float(np.max(tpr - fpr))
    return out


def _multiclass(
    skm: ModuleType, y: NDArray[np.float64], p: NDArray[np.float64], classes: tuple[float, ...]
) -> dict[str, float]:
    index = np.searchsorted(np.asarray(classes), y)
    hard = p.argmax(axis=1)
    return {
        "accuracy": float(skm.accuracy_score(index, hard)),
        "f1": float(skm.f1_score(index, hard, average="macro", zero_division=0)),
        "log_loss": float(skm.log_loss(index, p, labels=list(range(p.shape[1])))),
    }


def _regression(
    skm: ModuleType, y: NDArray[np.float64], pred: NDArray[np.float64]
) -> dict[str, float]:
    out = {
        "rmse": float(np.sqrt(skm.mean_squared_error(y, pred))),
        "mae": float(skm.mean_absolute_error(y, pred)),
    }
    if len(y) > 1:
        out["r2"] = float(skm.r2_score(y, pred))
    return out
