"""What the registry records about one trained part, and the digest that ties a
prediction job to the model it uses."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from vfl.config.job_spec import JobSpec, VerticalJobSpec
from vfl.errors import ConfigError

JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
"""A registered job id: also a folder name in the registry, so no separators, no `..`."""


def check_job_id(job_id: str, where: str) -> str:
    """`job_id` if it can name a registered part; else a one-line ConfigError."""
    if not JOB_ID.match(job_id) or ".." in job_id:
        raise ConfigError(
            f"{where}: {job_id!r} is not a job id (letters, digits, '-', '_', '.'); "
            "`vfl model list` shows the registered ones"
        )
    return job_id


def model_digest(spec: JobSpec) -> str:
    """SHA-256 (hex) of what defines a trained model, and nothing a prediction job may
    change: the mode, the parties and their roles, the `[model]` table and, for vertical
    jobs, the protection and preprocessing. A prediction spec must give the same digest as
    the training spec of the model it names (data paths, seeds, epochs may differ)."""
    body: dict[str, Any] = {
        "mode": str(spec.job.mode),
        "parties": sorted([p.name, p.role] for p in spec.parties),
        "model": spec.model.model_dump(mode="json"),
    }
    if isinstance(spec, VerticalJobSpec):
        body["protection"] = spec.train.protection
        body["standardize"] = spec.train.standardize
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class RegisteredPart:
    """One party's part of one trained model, as its registry keeps it."""

    job_id: str
    """The training job's id: what `[predict] model` names."""
    party: str
    """The party that holds this part (the registry's owner)."""
    role: str
    """Its role in the training job (label_holder, feature_holder, source...)."""
    mode: str
    """The training job's mode."""
    spec_digest: str
    """SHA-256 (hex) of the training spec's JSON as this party received it."""
    model_digest: str
    """`model_digest` of the training spec: prediction specs must match it."""
    protection: str
    """How values crossed parties in training ("none", "paillier", ...)."""
    created_at: float
    """When the part was registered (seconds since the epoch)."""
    peers: tuple[tuple[str, str], ...] = ()
    """The parties that hold the other parts, as (name, role)."""
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    """Final metrics per split, as this party saw them (a feature holder sees none)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "party": self.party,
            "role": self.role,
            "mode": self.mode,
            "spec_digest": self.spec_digest,
            "model_digest": self.model_digest,
            "protection": self.protection,
            "created_at": self.created_at,
            "peers": [list(p) for p in self.peers],
            "metrics": self.metrics,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegisteredPart:
        return cls(
            job_id=str(data["job_id"]),
            party=str(data["party"]),
            role=str(data["role"]),
            mode=str(data["mode"]),
            spec_digest=str(data["spec_digest"]),
            model_digest=str(data["model_digest"]),
            protection=str(data["protection"]),
            created_at=float(data["created_at"]),
            peers=tuple((str(n), str(r)) for n, r in data.get("peers", [])),
            metrics={
                str(k): {str(m): float(v) for m, v in values.items()}
                for k, values in data.get("metrics", {}).items()
            },
        )
