"""Which program a party runs in each phase of a job: the one table that decides it.

Keyed by (mode, phase, role), the entries of each mode's phase plan
(`vfl/config/phase_plan.py`). The simulator and the party node ask here, so a job runs the
same code in one process and across machines; the align entries are the PSI table of
`parties/align_programs.py`, which local PSI runs (`vfl psi`, `benchmarks/psi.py`: an ID
source streamed from a CSV and a worker count) ask directly, without importing training
code. Adding a mode is its programs and its lines in `_PROGRAMS`.
"""

from __future__ import annotations

from collections.abc import Callable

from parties.align_programs import psi_program
from psi.ids import LocalIds
from psi.rr22.native import require_fastpsi
from vfl.algorithms.horizontal.sample_holder import (
    HorizontalEvaluateSampleHolder,
    HorizontalTrainSampleHolder,
)
from vfl.algorithms.hosted import HOSTED_PROGRAMS
from vfl.algorithms.split.feature_holder import SplitEvaluateFeatureHolder, SplitTrainFeatureHolder
from vfl.algorithms.split.label_holder import SplitEvaluateLabelHolder, SplitTrainLabelHolder
from vfl.algorithms.split.predict_feature_holder import SplitPredictFeatureHolder
from vfl.algorithms.split.predict_label_holder import SplitPredictLabelHolder
from vfl.algorithms.transfer.protections import sides_for
from vfl.algorithms.transfer.source import (
    TransferEvaluateSource,
    TransferPredictSource,
    TransferTrainSource,
)
from vfl.algorithms.transfer.target import (
    TransferEvaluateTarget,
    TransferPredictTarget,
    TransferTrainTarget,
)
from vfl.config.job_spec import JobSpec, PartySpec, TransferJobSpec, align_roles
from vfl.config.phase_plan import Mode, Phase, Role
from vfl.errors import ConfigError
from vfl.runtime.program import Program

ProgramFactory = Callable[[JobSpec, LocalIds | None], Program]
"""Builds one role's program for one phase of a job (with `LocalIds` for a local run)."""


def _psi(role: Role) -> ProgramFactory:
    """The align program of PSI's `role` (parties/align_programs.py)."""
    return lambda spec, local: psi_program(spec, role, local)


def _fixed(program: Callable[[], Program]) -> ProgramFactory:
    return lambda spec, local: program()


def _protected(program: Callable[[], Program]) -> ProgramFactory:
    """A transfer program, once its `train.protection` is known to be built."""

    def build(spec: JobSpec, local: LocalIds | None) -> Program:
        sides_for(spec)
        return program()

    return build


_PROGRAMS: dict[tuple[str, str, str], ProgramFactory] = {
    (Mode.VERTICAL, Phase.ALIGN, Role.LABEL_HOLDER): _psi(Role.LABEL_HOLDER),
    (Mode.VERTICAL, Phase.ALIGN, Role.FEATURE_HOLDER): _psi(Role.FEATURE_HOLDER),
    (Mode.VERTICAL, Phase.TRAIN, Role.LABEL_HOLDER): _fixed(SplitTrainLabelHolder),
    (Mode.VERTICAL, Phase.TRAIN, Role.FEATURE_HOLDER): _fixed(SplitTrainFeatureHolder),
    (Mode.VERTICAL, Phase.EVALUATE, Role.LABEL_HOLDER): _fixed(SplitEvaluateLabelHolder),
    (Mode.VERTICAL, Phase.EVALUATE, Role.FEATURE_HOLDER): _fixed(SplitEvaluateFeatureHolder),
    # prediction jobs (a [predict] table): align, then these (docs/predict.md)
    (Mode.VERTICAL, Phase.PREDICT, Role.LABEL_HOLDER): _fixed(SplitPredictLabelHolder),
    (Mode.VERTICAL, Phase.PREDICT, Role.FEATURE_HOLDER): _fixed(SplitPredictFeatureHolder),
    (Mode.TRANSFER, Phase.ALIGN, Role.SOURCE): _psi(Role.LABEL_HOLDER),
    (Mode.TRANSFER, Phase.ALIGN, Role.TARGET): _psi(Role.FEATURE_HOLDER),
    (Mode.TRANSFER, Phase.TRAIN, Role.SOURCE): _protected(TransferTrainSource),
    (Mode.TRANSFER, Phase.TRAIN, Role.TARGET): _protected(TransferTrainTarget),
    (Mode.TRANSFER, Phase.EVALUATE, Role.SOURCE): _protected(TransferEvaluateSource),
    (Mode.TRANSFER, Phase.EVALUATE, Role.TARGET): _protected(TransferEvaluateTarget),
    (Mode.TRANSFER, Phase.PREDICT, Role.SOURCE): _protected(TransferPredictSource),
    (Mode.TRANSFER, Phase.PREDICT, Role.TARGET): _protected(TransferPredictTarget),
    (Mode.HORIZONTAL, Phase.TRAIN, Role.SAMPLE_HOLDER): _fixed(HorizontalTrainSampleHolder),
    (Mode.HORIZONTAL, Phase.EVALUATE, Role.SAMPLE_HOLDER): _fixed(HorizontalEvaluateSampleHolder),
    # the coordinator's hosted programs (the aggregator), from the registry it reads too
    **{key: _fixed(program) for key, program in HOSTED_PROGRAMS.items()},
}
"""(mode, phase, role) → the program that role runs in that phase. The keys are StrEnums,
so the strings of a spec and of the coordinator's states look them up as they are."""


def available_modes() -> list[str]:
    """The modes this version has programs for."""
    return sorted({str(mode) for mode, _, _ in _PROGRAMS})


def program_for(
    spec: JobSpec, phase: str, party: PartySpec, local: LocalIds | None = None
) -> Program:
    """The program `party` runs in `phase` of `spec`; a mode, phase or role this version
    has no program for is a one-line ConfigError."""
    return program_for_role(spec, phase, party.role, local)


def program_for_role(
    spec: JobSpec, phase: str, role: str, local: LocalIds | None = None
) -> Program:
    """The program of `role` (a party's, or a hosted role's such as the aggregator)."""
    factory = _PROGRAMS.get((spec.job.mode, phase, role))
    if factory is None:
        raise ConfigError(_missing(spec, phase, role))
    return factory(spec, local)


def check_runnable(spec: JobSpec) -> None:
    """Raise the registry's ConfigError now, before any data is read, unless every party
    has a program for every phase of the job's plan."""
    roles = [*(p.role for p in spec.parties), *spec.plan.hosted]
    if isinstance(spec, TransferJobSpec) and Phase.TRAIN in spec.phases:
        sides_for(spec)  # a protection not built yet (transfer paillier)
    if Phase.ALIGN in spec.plan.phases and align_roles(spec).align.protocol == "rr22":
        require_fastpsi()
    for phase in spec.plan.phases:
        for role in roles:
            if (spec.job.mode, phase, role) not in _PROGRAMS:
                raise ConfigError(_missing(spec, phase, role))


def _missing(spec: JobSpec, phase: str, role: str) -> str:
    modes = available_modes()
    if spec.job.mode not in modes:
        use = " or ".join(repr(m) for m in modes)
        return f"job.mode: {spec.job.mode!r} is not available in this version; use {use}"
    phases = ", ".join(spec.plan.phases)
    return (
        f"job.mode {spec.job.mode!r}: no program for role {role!r} in phase {phase!r} "
        f"(phases: {phases})"
    )
