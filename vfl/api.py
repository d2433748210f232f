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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from parties.data import load_dataset
from parties.programs import check_runnable, program_for_role
from vfl.config.job_spec import JobSpec, vertical
from vfl.config.loading import load_job
from vfl.config.phase_plan import COORDINATOR, Phase
from vfl.dataset import PartyDataset
from vfl.privacy.attacks.base import Attack
from vfl.privacy.audit import DEFAULT_ATTACKS, applicable, mount
from vfl.privacy.audit_run import AuditRun
from vfl.result import JobResult, ResultCollector
from vfl.runtime.context import party_context
from vfl.runtime.events import NullReporter, Reporter
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.party_secret import secret_file
from vfl.runtime.simulator import PartyFailedError, PartyRun, run_phase
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace


def new_job_id(spec: JobSpec) -> str:
    return f"{spec.job.name}-{secrets.token_hex(4)}"


def simulate(
    job: JobSpec | str | Path,
    *,
    workdir: Path | None = None,
    reporter: Reporter | None = None,
    transcript: Transcript | None = None,
    job_id: str | None = None,
    party_secrets: Mapping[str, bytes] | None = None,
    spec_digest: bytes | None = None,
) -> JobResult:
    """Run every phase of `job` in this process.

    Invalid specs and data raise ConfigError / DataValidationError before anything runs;
    a failure while the job runs is returned as a result with status "failed". With a
    `transcript`, every message each party receives is recorded in it, decoded.

    Every party draws its initial weights and masks from its own party secret, made fresh
    per run. To reproduce a run exactly (tests, or a deployed job whose parties handed
    over their secrets for debugging), pass the same `job_id` and `party_secrets`, and for
    a deployed job the `spec_digest` its parties received (its data names differ from the
    paths the simulator reads).
    """
    spec = _spec(job)
    check_runnable(spec)  # rejects modes this version lacks, before reading any data
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    replay = _Replay(job_id, dict(party_secrets or {}), spec_digest)
    result, _ = _run(spec, datasets, workdir, reporter, transcript, replay)
    return result


def audit(
    job: JobSpec | str | Path,
    *,
    workdir: Path | None = None,
    reporter: Reporter | None = None,
    attacks: Sequence[Attack] = DEFAULT_ATTACKS,
    party_secrets: Mapping[str, bytes] | None = None,
    spec_digest: bytes | None = None,
    job_id: str | None = None,
) -> JobResult:
    """Simulate `job` with a transcript and mount `attacks` on what each party received
    (docs/privacy.md); the findings are in the result's `privacy.attacks`. `party_secrets`,
    `job_id` and `spec_digest` fix the parties' secrets as in `simulate` (to compare
    settings; every secret derivation binds the job id, so a run repeats only with it)."""
    spec = _spec(job)
    chosen = applicable(spec, attacks, str(job) if isinstance(job, str | Path) else "job spec")
    check_runnable(spec)
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    transcript = Transcript()
    replay = _Replay(job_id, dict(party_secrets or {}), spec_digest)
    result, workspaces = _run(spec, datasets, workdir, reporter, transcript, replay)
    if result.status != "succeeded":
        return result
    aligned = {n: d.aligned(workspaces[n].load_alignment()) for n, d in datasets.items()}
    run = AuditRun(vertical(spec), result.job_id, transcript, workspaces, aligned, spec_digest)
    result.privacy.attacks = mount(run, chosen)
    return result


@dataclass(frozen=True)
class _Replay:
    """What makes a simulated run reproduce another one (see `simulate`)."""

    job_id: str | None = None
    party_secrets: dict[str, bytes] = field(default_factory=dict)
    spec_digest: bytes | None = None


def _constant(value: bytes) -> Callable[[], bytes]:
    return lambda: value


def _spec(job: JobSpec | str | Path) -> JobSpec:
    return load_job(job) if isinstance(job, str | Path) else job


def _run(
    spec: JobSpec,
    datasets: dict[str, PartyDataset],
    workdir: Path | None,
    reporter: Reporter | None,
    transcript: Transcript | None,
    replay: _Replay,
) -> tuple[JobResult, dict[str, Workspace]]:
    job_id = replay.job_id or new_job_id(spec)
    root = workdir or Path(".vfl") / "runs" / job_id
    result = JobResult(job=spec.job.name, job_id=job_id, mode=spec.job.mode)
    collector = ResultCollector(result, reporter or NullReporter())
    hub = InMemoryHub()
    # the parties, and the coordinator when the mode has it host a program (aggregation)
    participants = [p.name for p in spec.parties] + ([COORDINATOR] if spec.plan.hosted else [])
    ledgers = {name: MemoryLedger() for name in participants}
    workspaces = {name: Workspace(root / name) for name in participants}
    for name, key in replay.party_secrets.items():
        workspaces[name].private(secret_file(job_id), _constant(key))
    started = time.perf_counter()
    try:
        for phase in spec.phases:
            runs = {}
            for name in participants:
                channel = hub.channel(name)
                ctx = party_context(
                    spec,
                    name,
                    job_id,
                    phase,
                    channel=channel if transcript is None else transcript.channel(channel),
                    workspace=workspaces[name],
                    reporter=collector,
                    ledger=ledgers[name],
                    data=datasets.get(name),
                    spec_digest=replay.spec_digest,
                )
                runs[name] = PartyRun(program_for_role(spec, phase, ctx.role), ctx)
            result.timings[f"{phase}_s"] = run_phase(hub, job_id, runs)
    except PartyFailedError as failure:
        result.status = "failed"
        result.error = str(failure)
    result.timings["total_s"] = time.perf_counter() - started
    result.bytes = {name: ledger.totals(job_id) for name, ledger in ledgers.items()}
    trained = Phase.TRAIN in spec.phases
    if result.status == "succeeded" and trained:
        result.models = {name: str(ws.root / "model") for name, ws in workspaces.items()}
    return result, workspaces
