"""The Python API: load a job spec, run it in the simulator, read the result.

    import vfl
    result = vfl.simulate("samples/breast/job.toml")
    print(result.metrics["validation"]["auc"])

The CLI is a thin layer over these functions. This module sits above the core and may
import the party-side packages (data sources, program registry); the core never does.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from parties.data import load_dataset
from parties.programs import PHASES, program_for
from vfl.config.job_spec import JobSpec
from vfl.config.loading import load_job
from vfl.result import JobResult, ResultCollector
from vfl.runtime.context import PartyContext
from vfl.runtime.events import NullReporter, Reporter
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.party_secret import secret_file
from vfl.runtime.simulator import PartyFailedError, PartyRun, run_phase
from vfl.runtime.workspace import Workspace


def new_job_id(spec: JobSpec) -> str:
    return f"{spec.job.name}-{secrets.token_hex(4)}"


def _constant(value: bytes) -> Callable[[], bytes]:
    return lambda: value


def simulate(
    job: JobSpec | str | Path,
    *,
    workdir: Path | None = None,
    reporter: Reporter | None = None,
    job_id: str | None = None,
    party_secrets: Mapping[str, bytes] | None = None,
    spec_digest: bytes | None = None,
) -> JobResult:
    """Run every phase of `job` in this process.

    Invalid specs and data raise ConfigError / DataValidationError before anything runs;
    a failure while the job runs is returned as a result with status "failed".

    Every party draws its initial weights and masks from its own party secret, made fresh
    per run. To reproduce a run exactly (tests, or a deployed job whose parties handed
    over their secrets for debugging), pass the same `job_id` and `party_secrets`, and for
    a deployed job the `spec_digest` its parties received (its data names differ from the
    paths the simulator reads).
    """
    spec = job if isinstance(job, JobSpec) else load_job(job)
    program_for(spec, "align", spec.label_holder)  # rejects modes this version lacks, early
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    job_id = job_id or new_job_id(spec)
    root = workdir or Path(".vfl") / "runs" / job_id
    result = JobResult(job=spec.job.name, job_id=job_id, mode=spec.job.mode)
    collector = ResultCollector(result, reporter or NullReporter())
    hub = InMemoryHub()
    ledgers = {p.name: MemoryLedger() for p in spec.parties}
    workspaces = {p.name: Workspace(root / p.name) for p in spec.parties}
    for name, key in (party_secrets or {}).items():
        workspaces[name].private(secret_file(job_id), _constant(key))
    started = time.perf_counter()
    try:
        # Cardinality-only align answers "is this federation worth it?": nothing to train on.
        phases = PHASES[:1] if spec.align.cardinality_only else PHASES
        for phase in phases:
            runs = {
                p.name: PartyRun(
                    program_for(spec, phase, p),
                    PartyContext(
                        party=p.name,
                        role=p.role,
                        job=spec,
                        job_id=job_id,
                        channel=hub.channel(p.name),
                        workspace=workspaces[p.name],
                        reporter=collector,
                        ledger=ledgers[p.name],
                        data=datasets[p.name],
                        protection=spec.train.protection,
                        scope=phase,
                        spec_digest=spec_digest,
                    ),
                )
                for p in spec.parties
            }
            result.timings[f"{phase}_s"] = run_phase(hub, job_id, runs)
    except PartyFailedError as failure:
        result.status = "failed"
        result.error = str(failure)
    result.timings["total_s"] = time.perf_counter() - started
    result.bytes = {name: ledger.totals(job_id) for name, ledger in ledgers.items()}
    if result.status == "succeeded" and not spec.align.cardinality_only:
        result.models = {name: str(ws.root / "model") for name, ws in workspaces.items()}
    return result
