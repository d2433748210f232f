"""Registering what a training job leaves in a party's workspace, by the runner that ran it
(the simulator or the party node), once the job's last phase finished at that party."""

from __future__ import annotations

import hashlib
import time

from vfl.config.job_spec import JobSpec, TransferJobSpec, VerticalJobSpec
from vfl.config.phase_plan import Phase
from vfl.registry.model_registry import ModelRegistry, published_files
from vfl.registry.part import RegisteredPart, model_digest
from vfl.runtime.events import Event, MetricsReport, Reporter
from vfl.runtime.workspace import Workspace


class MetricsTap:
    """A reporter that passes every event on and keeps the metrics `party` itself
    reported: what its registry records (a feature holder computes none, so keeps none)."""

    def __init__(self, inner: Reporter, party: str) -> None:
        self.inner, self.party = inner, party
        self.metrics: dict[str, dict[str, float]] = {}

    def report(self, party: str, event: Event) -> None:
        if party == self.party and isinstance(event, MetricsReport):
            self.metrics[event.split] = dict(event.values)
        self.inner.report(party, event)


def trains(spec: JobSpec) -> bool:
    """Whether `spec` is a training job (its parts are registered when it ends)."""
    return Phase.TRAIN in spec.phases


def register_trained_part(
    registry: ModelRegistry,
    spec: JobSpec,
    job_id: str,
    party: str,
    workspace: Workspace,
    metrics: dict[str, dict[str, float]],
    spec_json: str | None = None,
) -> RegisteredPart | None:
    """Register the part `party` published for `job_id` (None if it published none)."""
    folder = workspace.root / "model"
    files = published_files(folder) if folder.is_dir() else {}
    if not files:
        return None
    me = spec.party(party)
    text = spec_json if spec_json is not None else spec.model_dump_json()
    protection = (
        spec.train.protection if isinstance(spec, VerticalJobSpec | TransferJobSpec) else "none"
    )
    part = RegisteredPart(
        job_id=job_id,
        party=party,
        role=me.role,
        mode=str(spec.job.mode),
        spec_digest=hashlib.sha256(text.encode()).hexdigest(),
        model_digest=model_digest(spec),
        protection=protection,
        created_at=time.time(),
        peers=tuple((p.name, p.role) for p in spec.parties if p.name != party),
        metrics=metrics,
    )
    registry.register(part, files)
    return part
