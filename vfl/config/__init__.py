"""Validated configuration: job specs now, party and coordinator configs with deployment."""

from vfl.config.job_spec import AlignSpec, JobSection, JobSpec, ModelSpec, PartySpec, TrainSpec
from vfl.config.loading import load_job

__all__ = ["AlignSpec", "JobSection", "JobSpec", "ModelSpec", "PartySpec", "TrainSpec", "load_job"]
