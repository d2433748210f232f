"""The one interface every audit attack implements, and the names findings carry."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from vfl.config.job_spec import JobSpec
from vfl.privacy.audit_run import AuditRun
from vfl.result import AttackFinding


class AttackName(StrEnum):
    """The `attack` of a finding in the result JSON (`privacy.attacks`)."""

    NORM_LABEL_INFERENCE = "norm_label_inference"
    COSINE_LABEL_INFERENCE = "cosine_label_inference"
    ACTIVATION_RECONSTRUCTION = "activation_reconstruction"


class Metric(StrEnum):
    """The `metric` of a finding."""

    AUC = "auc"
    """max(AUC, 1 − AUC) of the attacker's scores against the truth: 0.5 is a coin."""
    RELATIVE_ERROR = "relative_error"
    """‖estimate − truth‖ / ‖truth‖ (Frobenius): 0 is exact, ~1 or more is nothing learned."""


class Attack(Protocol):
    """One attack: a party's inference from what it received in a simulated job.

    `mount` sees the whole `AuditRun`, so an attack by any party on any other fits:
    label inference by feature holders (label_inference.py) as well as, say, feature
    reconstruction by the label holder from the activations it received. The attack
    itself must use only the attacker's view (`run.transcript.received(attacker)` and
    the attacker's own workspace); `run.data` is the truth it is scored against.
    """

    name: AttackName

    def skip_reason(self, spec: JobSpec) -> str | None:
        """Why this attack does not apply to jobs like `spec`; None if it does."""
        ...

    def mount(self, run: AuditRun) -> list[AttackFinding]:
        """One finding per (attacker, target) pair attacked."""
        ...
