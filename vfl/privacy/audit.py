"""`vfl audit`: mount privacy attacks on a simulated job and score them against the truth.

The simulator records what every party received (vfl.runtime.transcript); each attack
takes one party's view of it and infers another party's secret, and the audit, which
alone holds every party's data, scores the inference. Attacks are small classes with
one interface (attacks/base.py): adding one is adding it to `DEFAULT_ATTACKS`.
"""

from __future__ import annotations

from collections.abc import Sequence

from vfl.config.job_spec import JobSpec
from vfl.errors import ConfigError
from vfl.privacy.attacks.activation_reconstruction import ActivationReconstruction
from vfl.privacy.attacks.base import Attack
from vfl.privacy.attacks.label_inference import CosineLabelInference, NormLabelInference
from vfl.privacy.audit_run import AuditRun
from vfl.result import AttackFinding

DEFAULT_ATTACKS: tuple[Attack, ...] = (
    NormLabelInference(),
    CosineLabelInference(),
    ActivationReconstruction(),
)


def applicable(spec: JobSpec, attacks: Sequence[Attack], source: str) -> list[Attack]:
    """The attacks that apply to `spec`; none at all is an error (nothing to audit)."""
    chosen = [a for a in attacks if a.skip_reason(spec) is None]
    if not chosen:
        reasons = "; ".join(sorted({f"{a.skip_reason(spec)}" for a in attacks}))
        raise ConfigError(f"{source}: no audit attack applies to this job ({reasons})")
    return chosen


def mount(run: AuditRun, attacks: Sequence[Attack]) -> list[AttackFinding]:
    """Every finding of every attack, in the order of `attacks`."""
    return [finding for attack in attacks for finding in attack.mount(run)]
