"""Modes, roles, phases and job states, and the one phase plan per mode.

These names used to be string literals repeated in the coordinator's lifecycle, the party
node, the simulator and the program table; a typo in one of them was a job that silently
never advanced. They are `StrEnum`s, so their values are the very strings stored in the
coordinator's database and sent on the wire: `Phase.TRAIN == "train"`, no migration and no
proto change.

A `PhasePlan` says which phases a mode runs, in order, and which roles take part. The
coordinator's lifecycle advances jobs along it, the party node accepts only its phases and
the simulator runs them; the program registry (`parties/programs.py`) maps each
(mode, phase, role) of a plan to a program.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from vfl.errors import ConfigError


class Mode(StrEnum):
    """What kind of federation a job is (`job.mode` in the spec)."""

    VERTICAL = "vertical"
    HORIZONTAL = "horizontal"
    TRANSFER = "transfer"


class Role(StrEnum):
    """What a party does in a job (`parties[].role`); each mode has its own roles."""

    LABEL_HOLDER = "label_holder"
    FEATURE_HOLDER = "feature_holder"
    SAMPLE_HOLDER = "sample_holder"
    SOURCE = "source"
    TARGET = "target"
    AGGREGATOR = "aggregator"
    """Not a party's role: the coordinator's hosted program (horizontal aggregation)."""


COORDINATOR = "coordinator"
"""The participant name of programs the coordinator hosts (a party may not take it)."""


class Phase(StrEnum):
    """One step of a job; every party runs one program per phase."""

    ALIGN = "align"
    TRAIN = "train"
    EVALUATE = "evaluate"
    PREDICT = "predict"
    """Scores rows with a trained model: transfer, the target's rows outside the training
    intersection (in its workspace only); vertical prediction jobs (`[predict]`), the
    newly aligned rows, delivered to the party the spec names (docs/predict.md)."""


class JobState(StrEnum):
    """Where a job is. A running job's state is the phase it is in."""

    PENDING = "pending"
    APPROVED = "approved"
    ALIGN = Phase.ALIGN.value
    TRAIN = Phase.TRAIN.value
    EVALUATE = Phase.EVALUATE.value
    PREDICT = Phase.PREDICT.value
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL: frozenset[str] = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
"""States a job ends in (a failed one may be resumed: `vfl job resume`)."""

_PHASES: dict[str, Phase] = {p.value: p for p in Phase}
_MODES: dict[str, Mode] = {m.value: m for m in Mode}


def phase_of(state: str) -> Phase | None:
    """The phase a job in `state` runs, or None when it runs none (pending, ended...)."""
    return _PHASES.get(state)


@dataclass(frozen=True)
class PhasePlan:
    """The phases one mode runs, in order, and the roles that take part in them."""

    mode: Mode
    phases: tuple[Phase, ...]
    """Run in this order; the job succeeds when every party finished the last one."""
    roles: tuple[Role, ...]
    """The roles a spec of this mode may give its parties."""
    hosted: tuple[Role, ...] = ()
    """Roles the coordinator runs itself, as participant `coordinator`, in every phase."""

    @property
    def first(self) -> Phase:
        return self.phases[0]

    def after(self, phase: str) -> Phase | None:
        """The phase that follows `phase`, or None after the last one."""
        index = self.phases.index(Phase(phase))
        return self.phases[index + 1] if index + 1 < len(self.phases) else None

    def runs(self, state: str) -> bool:
        """Whether `state` is one of this plan's phases."""
        return state in self.phases


PLANS: dict[Mode, PhasePlan] = {
    Mode.VERTICAL: PhasePlan(
        Mode.VERTICAL,
        (Phase.ALIGN, Phase.TRAIN, Phase.EVALUATE),
        (Role.LABEL_HOLDER, Role.FEATURE_HOLDER),
    ),
    # the aggregator joins as participant `coordinator` with the horizontal programs
    Mode.HORIZONTAL: PhasePlan(
        Mode.HORIZONTAL,
        (Phase.TRAIN, Phase.EVALUATE),
        (Role.SAMPLE_HOLDER,),
        hosted=(Role.AGGREGATOR,),
    ),
    # predict: the target scores its rows outside the intersection (docs/transfer.md)
    Mode.TRANSFER: PhasePlan(
        Mode.TRANSFER,
        (Phase.ALIGN, Phase.TRAIN, Phase.EVALUATE, Phase.PREDICT),
        (Role.SOURCE, Role.TARGET),
    ),
}
"""The one phase plan per mode (DESIGN.md §4)."""

PREDICT_PLANS: dict[Mode, PhasePlan] = {
    # a vertical job with a [predict] table uses a registered model: align the new rows by
    # PSI, then every party runs its part on them (docs/predict.md)
    Mode.VERTICAL: PhasePlan(
        Mode.VERTICAL, (Phase.ALIGN, Phase.PREDICT), (Role.LABEL_HOLDER, Role.FEATURE_HOLDER)
    ),
}
"""The plan of a prediction job (`[predict]` in the spec), per mode that has one."""


def plan_for(mode: str, predicting: bool = False) -> PhasePlan:
    """The plan of `mode` (of its prediction jobs with `predicting`); a mode nobody
    defined is a one-line ConfigError."""
    known = _MODES.get(mode)
    plan = (PREDICT_PLANS if predicting else PLANS).get(known) if known else None
    if plan is None:
        what = "a mode with prediction jobs" if predicting and known else "a mode"
        raise ConfigError(f"job.mode: {mode!r} is not {what} (modes: {', '.join(Mode)})")
    return plan


@lru_cache(maxsize=1024)
def job_plan(mode: str, spec_json: str) -> PhasePlan:
    """The plan of a stored job, from its spec JSON (the coordinator's view): a vertical
    spec with a `predict` table runs the prediction plan."""
    predicting = False
    if mode in PREDICT_PLANS:
        try:
            predicting = json.loads(spec_json).get("predict") is not None
        except (ValueError, AttributeError):
            predicting = False
    return plan_for(mode, predicting)
