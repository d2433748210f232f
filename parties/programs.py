"""Which program a party runs in each phase of a job: the one place that decides it.

The simulator and (with deployment) the party node both ask here, so a job runs the same
code in one process and across machines.
"""

from __future__ import annotations

from psi.ecdh.feature_holder import EcdhFeatureHolder
from psi.ecdh.label_holder import EcdhLabelHolder
from psi.join.programs import JoinFeatureHolder, JoinLabelHolder
from psi.rsa.feature_holder import RsaFeatureHolder
from psi.rsa.label_holder import RsaLabelHolder
from vfl.algorithms.split.feature_holder import SplitEvaluateFeatureHolder, SplitTrainFeatureHolder
from vfl.algorithms.split.label_holder import SplitEvaluateLabelHolder, SplitTrainLabelHolder
from vfl.config.job_spec import JobSpec, PartySpec
from vfl.errors import ConfigError
from vfl.runtime.program import Program

PHASES = ("align", "train", "evaluate")

_VERTICAL: dict[tuple[str, str], type[Program]] = {
    ("train", "label_holder"): SplitTrainLabelHolder,
    ("train", "feature_holder"): SplitTrainFeatureHolder,
    ("evaluate", "label_holder"): SplitEvaluateLabelHolder,
    ("evaluate", "feature_holder"): SplitEvaluateFeatureHolder,
}

_ALIGN: dict[tuple[str, str], type[Program]] = {
    ("join", "label_holder"): JoinLabelHolder,
    ("join", "feature_holder"): JoinFeatureHolder,
    ("ecdh", "label_holder"): EcdhLabelHolder,
    ("ecdh", "feature_holder"): EcdhFeatureHolder,
    ("rsa", "label_holder"): RsaLabelHolder,
    ("rsa", "feature_holder"): RsaFeatureHolder,
}


def program_for(spec: JobSpec, phase: str, party: PartySpec) -> Program:
    if spec.job.mode != "vertical":
        raise ConfigError(
            f"job.mode: {spec.job.mode!r} is not available in this version; use 'vertical'"
        )
    if phase == "align":
        return _ALIGN[(spec.align.protocol, party.role)]()
    return _VERTICAL[(phase, party.role)]()
