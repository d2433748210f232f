"""What programs report to whoever runs the job: the simulator or the coordinator.

Only aggregates travel here (counts, losses, metrics, byte totals), never rows or IDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Progress:
    phase: str
    done: int
    total: int


@dataclass(frozen=True)
class AlignReport:
    """A party's own row count and the size of the intersection it ended with."""

    rows: int
    intersection_size: int
    protocol: str


@dataclass(frozen=True)
class EpochReport:
    epoch: int
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StepReport:
    """The training loss of one batch, for loss curves and the centralized-oracle test."""

    epoch: int
    batch: int
    loss: float


@dataclass(frozen=True)
class MetricsReport:
    """Final metrics of one split of the aligned rows ("train" or "validation")."""

    split: str
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CurvesReport:
    """ROC and KS curves of one split of a binary task (vfl/curves.py): at each of at most
    64 fixed score quantiles, the share of rows, of negatives and of positives scoring at or
    above it.

    Leakage: aggregates only. Each point counts the labels over a bucket of at least 10 rows
    between two quantiles; no score or threshold value is sent; no curve at all when either
    class has fewer than 20 rows in the split. What an operator learns is the label mix per
    score decile-like bucket, which the split's AUC and KS already summarize."""

    split: str
    depth: tuple[float, ...]
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]


@dataclass(frozen=True)
class PrivacyReport:
    """A DP mechanism's parameters and the ε it spent, when training ends: the label
    holder's label-DP (docs/privacy.md), or a horizontal job's client-level DP or
    record-level DP-SGD (docs/horizontal.md). Numbers only, never a value of the
    mechanism itself."""

    target_epsilon: float | None
    """The ε the noise was calibrated to; None when `noise_multiplier` was set by hand."""
    delta: float
    clip: float
    noise_multiplier: float
    epochs: int
    """Epochs trained, i.e. noisy releases per label."""
    epsilon: dict[str, float] = field(default_factory=dict)
    """Who or what the ε is against → ε spent at `delta` (label-DP: each feature holder;
    client DP: "client_level"; DP-SGD: "record_level@party")."""
    mechanism: str = "label_dp"
    """label_dp, client_dp or dp_sgd: the result's privacy block keeps one entry each."""


@dataclass(frozen=True)
class OutputReport:
    """A file a program wrote in its own party's workspace (transfer: the target's
    predictions): its name and path on that party's disk. Never its content or row count."""

    name: str
    path: str


Event = (
    Progress
    | AlignReport
    | EpochReport
    | StepReport
    | MetricsReport
    | CurvesReport
    | PrivacyReport
    | OutputReport
)


class Reporter(Protocol):
    def report(self, party: str, event: Event) -> None: ...


class NullReporter:
    def report(self, party: str, event: Event) -> None:
        return None
