"""What `vfl party approve` shows before it approves: the job's spec, whether party.toml
[policy] accepts it, and what will leave this silo (the party dashboard's own list,
dashboard/queries/outbound.py), so an operator decides on the same facts in both places."""

from __future__ import annotations

import json
from collections.abc import Callable

from dashboard.queries.outbound import outbound
from vfl.config.job_spec import JobSpec
from vfl.config.party_config import PartyConfig


def review(config: PartyConfig, spec: JobSpec, job_id: str) -> str:
    """The spec, the policy verdict and each message this party would send, as text."""
    refusal = config.policy.refusal(spec, job_id, config.name)
    verdict = "accepted by party.toml [policy]" if refusal is None else refusal.line
    lines = [f"job {job_id}, spec:", json.dumps(spec.model_dump(mode="json"), indent=2)]
    lines += [f"policy: {verdict}", f"what will leave this silo ({config.name}):"]
    sent = outbound(spec, config.name)
    lines += [
        f"  {o.phase:<9} {o.kind:<28} to {', '.join(o.to)}: {o.carries} [{o.protection}]"
        for o in sent
    ] or ["  nothing (this party is not in the job, or its mode has no programs here)"]
    return "\n".join(lines)


def confirmed(ask: Callable[[str], str]) -> bool:
    """The operator's answer: only y or yes approves."""
    return ask("approve this job? [y/N] ").strip().lower() in ("y", "yes")
