"""Validated configuration: job specs now, party and coordinator configs with deployment."""

from vfl.config.job_spec import (
    AlignSpec,
    HorizontalJobSpec,
    JobSection,
    JobSpec,
    ModelSpec,
    PartySpec,
    TrainSpec,
    TransferJobSpec,
    VerticalJobSpec,
    VerticalTrainSpec,
)
from vfl.config.loading import load_job, parse_job
from vfl.config.phase_plan import JobState, Mode, Phase, PhasePlan, Role, plan_for

__all__ = [
    "AlignSpec",
    "HorizontalJobSpec",
    "JobSection",
    "JobSpec",
    "JobState",
    "Mode",
    "ModelSpec",
    "PartySpec",
    "Phase",
    "PhasePlan",
    "Role",
    "TrainSpec",
    "TransferJobSpec",
    "VerticalJobSpec",
    "VerticalTrainSpec",
    "load_job",
    "parse_job",
    "plan_for",
]
