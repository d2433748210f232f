"""What a party checks before it approves a prediction job, before any data leaves it:
that it holds the part the job names, trained under the same model (digest), and, at the
party that receives the scores, that the output may be written."""

from __future__ import annotations

from vfl.config.job_spec import JobSpec, VerticalJobSpec
from vfl.errors import ConfigError
from vfl.registry.model_registry import ModelRegistry
from vfl.registry.part import model_digest
from vfl.runtime.score_sink import OutputPlace, open_sink


def prediction_refusal(
    spec: JobSpec,
    job_id: str,
    party: str,
    registry: ModelRegistry | None,
    place: OutputPlace | None,
) -> str | None:
    """Why `party` cannot run prediction job `job_id` (one line), or None (also for jobs
    that predict nothing)."""
    if not isinstance(spec, VerticalJobSpec) or spec.predict is None:
        return None
    model = spec.predict.model
    head = f"job {job_id}: predict.model {model!r}: party {party}"
    part = registry.get(model) if registry is not None else None
    if part is None:
        return (
            f"{head} holds no model part of that job (`vfl model list` shows its parts); "
            "train it first or name another model"
        )
    role = spec.party(party).role
    if part.role != role:
        return (
            f"{head} holds that job's {part.role} part, but this job makes it {role}; give "
            "the parties the roles they trained with"
        )
    if part.model_digest != model_digest(spec):
        return (
            f"{head}'s part was trained under another spec (model digest "
            f"{part.model_digest[:12]}, this job's {model_digest(spec)[:12]}); copy [model], "
            "the parties' names and roles and train.protection from the training job's spec"
        )
    if spec.deliver_to == party and spec.predict.output is not None and place is not None:
        try:
            open_sink(spec.predict, place).check()
        except ConfigError as exc:
            return f"job {job_id}: party {party}: {exc}"
    return None
