"""Label inference by a feature holder from the cut-layer gradients it received (and by a
transfer target from the ∂L/∂u_B it received: row i is (p_i − y_i)·Φ/n plus the
alignment term, the same shape of leak).

Li et al. 2021 ("Label Leakage and Protection in Two-party Split Learning"): for a binary
task the gradient F receives for example i is g_i = δ_i·Wᵀ, with δ_i = (p_i − y_i)·J_i/B
(p_i the predicted probability, J_i the top model's Jacobian at z_i). Two scores:

- **norm** (`NormLabelInference`): ‖g_i‖₂. |p_i − y_i| is small for the class the model
  leans to and large for the other, so norms separate the classes, the more so when
  they are imbalanced.
- **cosine** (`CosineLabelInference`): cos(g_i, g_ref), g_ref the gradient of one example
  of the same batch the attacker knows to be positive (Li et al.'s threat model); the
  audit takes the batch's first positive row as that example and leaves it out of the
  scores. p − y changes sign with the label, so positives point along g_ref, negatives
  against it. Batches without a positive are skipped.

Scored as max(AUC, 1 − AUC) against the true labels (the attacker needs no polarity).
Every epoch gives each training row one score; the finding lists the AUC per epoch and
its value is the best of those and of the pooled AUC (each row's mean score over all
epochs, as an attacker who combines everything it saw would use): the audit reports the
attack at its strongest, not at its last epoch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from vfl.config.job_spec import JobSpec, TransferJobSpec, VerticalJobSpec
from vfl.privacy.attacks.base import AttackName, Metric
from vfl.privacy.audit_run import AuditRun
from vfl.privacy.received import ReceivedGradient, received_gradients
from vfl.result import AttackFinding

Scores = tuple[NDArray[np.int64], NDArray[np.float64]]
"""Rows and their scores."""


def polarity_free_auc(positive: NDArray[np.bool_], scores: NDArray[np.float64]) -> float | None:
    """max(AUC, 1 − AUC), or None when the rows hold only one class."""
    if positive.all() or not positive.any():
        return None
    auc = float(roc_auc_score(positive, scores))
    return max(auc, 1.0 - auc)


class GradientLabelInference(ABC):
    """Scores each training row from the gradients each feature holder received, per
    epoch, and reports one finding per feature holder against the label holder."""

    name: AttackName

    def skip_reason(self, spec: JobSpec) -> str | None:
        if not isinstance(spec, VerticalJobSpec | TransferJobSpec):
            return (
                f"job.mode is {spec.job.mode!r}; label inference attacks vertical and transfer jobs"
            )
        if spec.align.cardinality_only:
            return "align.cardinality_only = true: the job trains nothing"
        if spec.model.task != "binary":
            return f"model.task is {spec.model.task!r}; label inference is scored on binary labels"
        return None

    @abstractmethod
    def batch_scores(self, gradient: ReceivedGradient, positive: NDArray[np.bool_]) -> Scores:
        """The scores of one batch's rows; `positive` is per aligned row (truth)."""

    def mount(self, run: AuditRun) -> list[AttackFinding]:
        positive = run.positives()
        target = run.label_party
        findings = []
        for party in run.gradient_receivers:  # feature holders; the transfer target
            per_epoch = self._per_epoch(received_gradients(run, party), positive)
            if not per_epoch:
                continue  # this feature holder received no gradient (Paillier presets)
            aucs = [polarity_free_auc(positive[r], s) for r, s in per_epoch.values()]
            epoch_aucs = [a for a in aucs if a is not None]
            pooled = polarity_free_auc(*_pooled(per_epoch.values(), positive))
            best = max([*epoch_aucs, *([] if pooled is None else [pooled])], default=0.5)
            findings.append(
                AttackFinding(
                    attacker=party,
                    target=target,
                    attack=self.name.value,
                    metric=Metric.AUC.value,
                    value=best,
                    per_epoch=epoch_aucs,
                )
            )
        return findings

    def _per_epoch(
        self, gradients: list[ReceivedGradient], positive: NDArray[np.bool_]
    ) -> dict[int, Scores]:
        parts: dict[int, list[Scores]] = {}
        for gradient in gradients:
            parts.setdefault(gradient.epoch, []).append(self.batch_scores(gradient, positive))
        return {
            epoch: (np.concatenate([r for r, _ in got]), np.concatenate([s for _, s in got]))
            for epoch, got in sorted(parts.items())
        }


def _pooled(
    per_epoch: Iterable[Scores], positive: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Each row's mean score over the epochs that scored it."""
    epochs = list(per_epoch)
    rows = np.concatenate([r for r, _ in epochs])
    scores = np.concatenate([s for _, s in epochs])
    size = len(positive)
    total = np.bincount(rows, weights=scores, minlength=size)
    count = np.bincount(rows, minlength=size)
    seen = count > 0
    return positive[seen], total[seen] / count[seen]


class NormLabelInference(GradientLabelInference):
    """Score = the L2 norm of the row's gradient."""

    name = AttackName.NORM_LABEL_INFERENCE

    def batch_scores(self, gradient: ReceivedGradient, positive: NDArray[np.bool_]) -> Scores:
        return gradient.rows, np.linalg.norm(gradient.values, axis=1)


class CosineLabelInference(GradientLabelInference):
    """Score = cosine with a known positive example's gradient in the same batch."""

    name = AttackName.COSINE_LABEL_INFERENCE

    def batch_scores(self, gradient: ReceivedGradient, positive: NDArray[np.bool_]) -> Scores:
        known = np.flatnonzero(positive[gradient.rows])
        if not len(known):
            return np.empty(0, dtype=np.int64), np.empty(0)
        values = gradient.values
        reference = values[known[0]]
        others = np.arange(len(gradient.rows)) != known[0]
        norms = np.linalg.norm(values[others], axis=1) * np.linalg.norm(reference)
        cosine = values[others] @ reference / np.maximum(norms, np.finfo(np.float64).tiny)
        return gradient.rows[others], cosine
