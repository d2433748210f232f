"""The result of a job: the same JSON from `vfl simulate`, `vfl job status` and Python."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from vfl.curves import Curves, curves_dict
from vfl.runtime.events import (
    AlignReport,
    CurvesReport,
    EpochReport,
    Event,
    MetricsReport,
    OutputReport,
    PrivacyReport,
    Reporter,
)

Status = Literal["succeeded", "failed", "cancelled"]


@dataclass(frozen=True)
class AttackFinding:
    """One attack `vfl audit` mounted: how well `attacker` inferred `target`'s secret."""

    attacker: str
    """The party mounting the attack, with only what it received in the job."""
    target: str
    """The party whose data the attack is after."""
    attack: str
    """What was attempted (vfl.privacy.attacks.base.AttackName)."""
    metric: str
    """How success is measured (e.g. "auc", polarity-agnostic: max(AUC, 1 - AUC))."""
    value: float
    """The attacker's best over the epochs and the pool of all epochs."""
    per_epoch: list[float] = field(default_factory=list)
    """The metric per epoch of training, in order."""


@dataclass
class PrivacyResult:
    """The result's "privacy" block (docs/privacy.md), in every result.

    Without label-DP `label_dp` is None and `epsilon` empty: feature holders received
    exact gradients and no ε bounds what they learn. `attacks` is filled by `vfl audit`.
    """

    label_dp: dict[str, Any] | None = None
    """target_epsilon (None if noise_multiplier was set by hand), delta, clip,
    noise_multiplier, epochs: as the label holder reported them."""
    epsilon: dict[str, float] = field(default_factory=dict)
    """ε spent, at each mechanism's delta: per feature holder (label-DP), "client_level"
    (client DP), "record_level@party" (DP-SGD)."""
    attacks: list[AttackFinding] = field(default_factory=list)
    mechanisms: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Other mechanisms than label-DP (client_dp, dp_sgd) with their parameters."""


@dataclass
class JobResult:
    job: str
    job_id: str
    mode: str
    status: Status = "succeeded"
    error: str | None = None
    align: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    curves: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Binary tasks: split → {"roc": {"fpr", "tpr"}, "ks": {"depth", "tpr", "fpr", "ks",
    "at_depth"}}, down-sampled to fixed score quantiles (vfl/curves.py). A split with too
    few rows of a class has none."""
    history: list[dict[str, float]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    bytes: dict[str, dict[str, int]] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    """Files programs wrote at their own party: party → name → path on that party's disk
    (transfer: the target's predictions)."""
    privacy: PrivacyResult = field(default_factory=PrivacyResult)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> JobResult:
        """The inverse of `to_dict` (the coordinator's stored result JSON)."""
        fields = dict(data)
        privacy = dict(fields.pop("privacy", None) or {})
        attacks = [AttackFinding(**a) for a in privacy.pop("attacks", [])]
        return JobResult(**fields, privacy=PrivacyResult(**privacy, attacks=attacks))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.error is None:
            del out["error"]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n")


class ResultCollector:
    """A Reporter that folds program events into a JobResult, and passes them on.

    Folding is idempotent and per party: an event reported again (a resumed program, a
    resend after a reconnect) replaces its earlier copy, and one party's report never
    overwrites another's, so the coordinator can fold events as they arrive instead of
    refolding them all on every read.
    """

    def __init__(self, result: JobResult, forward: Reporter | None = None) -> None:
        self.result = result
        self._forward = forward
        self._lock = threading.Lock()
        self._aligned: dict[str, AlignReport] = {}
        self._epoch_at: dict[int, int] = {}  # epoch -> its index in result.history

    def report(self, party: str, event: Event) -> None:
        with self._lock:
            self._fold(party, event)
        if self._forward is not None:
            self._forward.report(party, event)

    def _fold(self, party: str, event: Event) -> None:
        r = self.result
        if isinstance(event, AlignReport):
            self._aligned[party] = event
            self._fold_align()
        elif isinstance(event, EpochReport):
            entry = {"epoch": event.epoch, **event.values}
            at = self._epoch_at.setdefault(event.epoch, len(r.history))
            if at == len(r.history):
                r.history.append(entry)
            else:
                r.history[at] = entry
        elif isinstance(event, MetricsReport):
            r.metrics[event.split] = dict(event.values)
        elif isinstance(event, CurvesReport):
            r.curves[event.split] = curves_dict(Curves(event.depth, event.fpr, event.tpr))
        elif isinstance(event, OutputReport):
            r.outputs.setdefault(party, {})[event.name] = event.path
        elif isinstance(event, PrivacyReport):
            params = {
                "target_epsilon": event.target_epsilon,
                "delta": event.delta,
                "clip": event.clip,
                "noise_multiplier": event.noise_multiplier,
                "epochs": event.epochs,
            }
            if event.mechanism == "label_dp":
                r.privacy.label_dp = params
            else:
                r.privacy.mechanisms[event.mechanism] = params
            r.privacy.epsilon.update(event.epsilon)

    def _fold_align(self) -> None:
        # Every party learns the intersection; honest ones agree. If they do not, the
        # smallest is what all of them can train on, whichever order they reported in.
        reports = self._aligned.values()
        self.result.align = {
            "protocol": "+".join(sorted({a.protocol for a in reports})),
            "intersection_size": min(a.intersection_size for a in reports),
            "party_rows": {p: a.rows for p, a in self._aligned.items()},
        }
