"""The programs the coordinator hosts, by (mode, phase, role): the horizontal aggregator.

They live apart from the party-side registry (`parties/programs.py`, which includes these
lines) because the coordinator may import neither `parties` nor torch: every program here
is numpy only, and `tests/unit/test_architecture.py` checks that importing the coordinator
with them loads neither torch nor pandas.
"""

from __future__ import annotations

from collections.abc import Callable

from vfl.algorithms.horizontal.aggregator import (
    HorizontalEvaluateAggregator,
    HorizontalTrainAggregator,
)
from vfl.config.job_spec import JobSpec
from vfl.config.phase_plan import Mode, Phase, Role
from vfl.errors import ConfigError
from vfl.runtime.program import Program

HOSTED_PROGRAMS: dict[tuple[str, str, str], Callable[[], Program]] = {
    (Mode.HORIZONTAL, Phase.TRAIN, Role.AGGREGATOR): HorizontalTrainAggregator,
    (Mode.HORIZONTAL, Phase.EVALUATE, Role.AGGREGATOR): HorizontalEvaluateAggregator,
}
"""(mode, phase, hosted role) → the program the coordinator runs as participant
`coordinator` in that phase."""


def hosted_program(spec: JobSpec, phase: str, role: str) -> Program:
    """The hosted program of `role` in `phase` of `spec`; a one-line ConfigError if none."""
    factory = HOSTED_PROGRAMS.get((spec.job.mode, phase, role))
    if factory is None:
        raise ConfigError(
            f"job.mode {spec.job.mode!r}: the coordinator hosts no program for role {role!r} "
            f"in phase {phase!r}"
        )
    return factory()
