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
from enum import StrEnum
from pathlib import Path

from parties.data import load_dataset
from parties.programs import check_runnable, program_for_role
from vfl.config.job_spec import HorizontalJobSpec, JobSpec, VerticalJobSpec
from vfl.config.loading import load_job
from vfl.config.phase_plan import COORDINATOR, Phase
from vfl.dataset import PartyDataset
from vfl.errors import ConfigError
from vfl.privacy.attacks.base import Attack
from vfl.privacy.audit import DEFAULT_ATTACKS, applicable, mount
from vfl.privacy.audit_run import AuditRun
from vfl.process_simulation import ProcessSimulation
from vfl.registry.approval import prediction_refusal
from vfl.registry.locations import SIMULATOR_HOME, simulator_registry_dir
from vfl.registry.registration import MetricsTap, register_trained_part, trains
from vfl.registry.sqlite_registry import SqliteModelRegistry
from vfl.result import JobResult, ResultCollector
from vfl.runtime.context import party_context
from vfl.runtime.events import Event, NullReporter, Reporter
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.party_secret import secret_file
from vfl.runtime.score_sink import OutputPlace
from vfl.runtime.simulator import PartyFailedError, PartyRun, run_phase
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace


class Backend(StrEnum):
    """Where `simulate` runs the participants (every party, and a hosted coordinator)."""

    THREADS = "threads"
    """Threads of this process: what tests use (a transcript, monkeypatched programs)."""
    PROCESSES = "processes"
    """A spawned process each, so parties compute at once instead of sharing one GIL."""
    RAY = "ray"
    """A Ray actor each, on whichever node has room (the `ray` extra)."""


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
    backend: Backend = Backend.THREADS,
    home: Path | None = None,
) -> JobResult:
    """Run every phase of `job`: each participant in a thread of this process; with
    `backend=Backend.PROCESSES` each in a process of its own (parties compute at once, after
    seconds to start each interpreter); with `Backend.RAY` each in a Ray
    actor (the `ray` extra; docs/horizontal.md, Ray backend). A transcript needs threads.

    Invalid specs and data raise ConfigError / DataValidationError before anything runs;
    a failure while the job runs is returned as a result with status "failed". With a
    `transcript`, every message each party receives is recorded in it, decoded.

    Every party draws its initial weights and masks from its own party secret, made fresh
    per run. To reproduce a run exactly (tests, or a deployed job whose parties handed
    over their secrets for debugging), pass the same `job_id` and `party_secrets`, and for
    a deployed job the `spec_digest` its parties received (its data names differ from the
    paths the simulator reads). Both backends then give the same result.

    Each party's trained part is registered in its model registry under `home` (default:
    `workdir`, else `.vfl`): `HOME/models/<party>` (`vfl model list`). A spec with a
    `[predict]` table uses a registered model instead of training one (see `predict`).
    """
    spec = _spec(job)
    check_runnable(spec)  # rejects modes this version lacks, before reading any data
    replay = _Replay(job_id, dict(party_secrets or {}), spec_digest, _home(home, workdir))
    backend = _backend(backend)
    if transcript is not None and backend != Backend.THREADS:
        raise ConfigError("simulate: a transcript needs backend='threads' (it records in-process)")
    if backend == Backend.RAY:
        return _run_on_ray(spec, workdir, reporter, replay)
    _check_prediction(spec, replay)  # the parts and the output, before reading any data
    if backend == Backend.PROCESSES:
        return _run_in_processes(spec, workdir, reporter, replay)
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    result, _ = _run(spec, datasets, workdir, reporter, transcript, replay)
    return result


def _backend(name: Backend | str) -> Backend:
    try:
        return Backend(name)
    except ValueError:
        choices = " or ".join(b.value for b in Backend)
        raise ConfigError(f"simulate: unknown backend {name!r}; choose {choices}") from None


def predict(
    job: JobSpec | str | Path,
    *,
    home: Path | None = None,
    workdir: Path | None = None,
    reporter: Reporter | None = None,
    job_id: str | None = None,
) -> JobResult:
    """Run a prediction job (a spec with `[predict]`, docs/predict.md) in the simulator:
    PSI aligns the new rows, every party runs its registered part (from `HOME/models/
    <party>`, HOME as in `simulate`) under the protection it was trained with, and the
    scores land only at `[predict] deliver_to`. With labels at the label holder the result
    carries `metrics["predict"]` and its curves. A missing or mismatched part, or an
    existing output, is a one-line ConfigError before anything runs."""
    spec = _spec(job)
    if not isinstance(spec, VerticalJobSpec) or spec.predict is None:
        raise ConfigError(
            "vfl.predict: the job spec has no [predict] table; add one naming the model "
            "(predict.model = the training job id) or use vfl.simulate to train"
        )
    return simulate(spec, workdir=workdir, reporter=reporter, job_id=job_id, home=home)


def _home(home: Path | None, workdir: Path | None) -> Path:
    return home or workdir or SIMULATOR_HOME


def _registry(replay: _Replay, party: str) -> SqliteModelRegistry:
    return SqliteModelRegistry(simulator_registry_dir(replay.home, party))


def _check_prediction(spec: JobSpec, replay: _Replay) -> None:
    if not isinstance(spec, VerticalJobSpec) or spec.predict is None:
        return
    for p in spec.parties:
        registry = (
            _registry(replay, p.name)
            if SqliteModelRegistry.exists(simulator_registry_dir(replay.home, p.name))
            else None
        )
        refusal = prediction_refusal(
            spec, replay.job_id or spec.job.name, p.name, registry, OutputPlace(spec.base_dir)
        )
        if refusal is not None:
            raise ConfigError(refusal)


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
    replay = _Replay(job_id, dict(party_secrets or {}), spec_digest, _home(None, workdir))
    result, workspaces = _run(spec, datasets, workdir, reporter, transcript, replay)
    if result.status != "succeeded":
        return result
    aligned = {n: d.aligned(workspaces[n].load_alignment()) for n, d in datasets.items()}
    if isinstance(spec, HorizontalJobSpec):  # applicable() refused it: no attack applies
        raise ConfigError(f"job.mode: {spec.job.mode!r} jobs have no audit")
    run = AuditRun(spec, result.job_id, transcript, workspaces, aligned, spec_digest)
    result.privacy.attacks = mount(run, chosen)
    return result


@dataclass(frozen=True)
class _Replay:
    """What makes a simulated run reproduce another one (see `simulate`)."""

    job_id: str | None = None
    party_secrets: dict[str, bytes] = field(default_factory=dict)
    spec_digest: bytes | None = None
    home: Path = SIMULATOR_HOME
    """Where the parties' model registries are (`HOME/models/<party>`)."""


def _constant(value: bytes) -> Callable[[], bytes]:
    return lambda: value


def _spec(job: JobSpec | str | Path) -> JobSpec:
    return load_job(job) if isinstance(job, str | Path) else job


@dataclass
class _Start:
    """What both backends set up alike before a job's first phase."""

    job_id: str
    root: Path
    result: JobResult
    collector: ResultCollector
    participants: list[str]

    @staticmethod
    def of(
        spec: JobSpec, workdir: Path | None, reporter: Reporter | None, replay: _Replay
    ) -> _Start:
        job_id = replay.job_id or new_job_id(spec)
        result = JobResult(job=spec.job.name, job_id=job_id, mode=spec.job.mode)
        # the parties, and the coordinator when the mode has it host a program (aggregation)
        hosted = [COORDINATOR] if spec.plan.hosted else []
        return _Start(
            job_id,
            workdir or replay.home / "runs" / job_id,
            result,
            ResultCollector(result, reporter or NullReporter()),
            [p.name for p in spec.parties] + hosted,
        )

    def finish(self, spec: JobSpec, started: float, totals: dict[str, dict[str, int]]) -> None:
        result = self.result
        result.timings["total_s"] = time.perf_counter() - started
        result.bytes = totals
        if result.status == "succeeded" and Phase.TRAIN in spec.phases:
            result.models = {name: str(self.root / name / "model") for name in self.participants}


def _run(
    spec: JobSpec,
    datasets: dict[str, PartyDataset],
    workdir: Path | None,
    reporter: Reporter | None,
    transcript: Transcript | None,
    replay: _Replay,
) -> tuple[JobResult, dict[str, Workspace]]:
    run = _Start.of(spec, workdir, reporter, replay)
    job_id, result = run.job_id, run.result
    hub = InMemoryHub()
    ledgers = {name: MemoryLedger() for name in run.participants}
    workspaces = {name: Workspace(run.root / name) for name in run.participants}
    for name, key in replay.party_secrets.items():
        workspaces[name].private(secret_file(job_id), _constant(key))
    parties = [p.name for p in spec.parties]
    registries = {name: _registry(replay, name) for name in parties}
    taps = {name: MetricsTap(run.collector, name) for name in run.participants}
    started = time.perf_counter()
    try:
        for phase in spec.phases:
            runs = {}
            for name in run.participants:
                channel = hub.channel(name)
                ctx = party_context(
                    spec,
                    name,
                    job_id,
                    phase,
                    channel=channel if transcript is None else transcript.channel(channel),
                    workspace=workspaces[name],
                    reporter=taps[name],
                    ledger=ledgers[name],
                    data=datasets.get(name),
                    spec_digest=replay.spec_digest,
                    registry=registries.get(name),
                    outputs=OutputPlace(spec.base_dir),
                )
                runs[name] = PartyRun(program_for_role(spec, phase, ctx.role), ctx)
            result.timings[f"{phase}_s"] = run_phase(hub, job_id, runs)
        if trains(spec):
            for name in parties:
                register_trained_part(
                    registries[name], spec, job_id, name, workspaces[name], taps[name].metrics
                )
    except PartyFailedError as failure:
        result.status = "failed"
        result.error = str(failure)
    run.finish(spec, started, {name: ledger.totals(job_id) for name, ledger in ledgers.items()})
    return result, workspaces


def _run_on_ray(
    spec: JobSpec, workdir: Path | None, reporter: Reporter | None, replay: _Replay
) -> JobResult:
    """`_run` with each participant in a Ray actor that reads its own rows (vfl.ray_simulation)."""
    try:
        from vfl import ray_simulation  # noqa: PLC0415 (ray is an optional extra)
    except ImportError as missing:
        raise ConfigError(
            f"backend 'ray' needs Ray ({missing}): pip install 'vfl[ray]'"
        ) from missing
    run = _Start.of(spec, workdir, reporter, replay)
    result = run.result
    with ray_simulation.connected():
        job = ray_simulation.RaySimulation(
            spec,
            run.job_id,
            run.participants,
            run.root,
            replay.party_secrets,
            replay.spec_digest,
            run.collector,
        )
        try:
            job.load()  # invalid data raises here, before any phase runs, as with threads
            started = time.perf_counter()
            try:
                for phase in spec.phases:
                    result.timings[f"{phase}_s"] = job.run_phase(phase)
            except PartyFailedError as failure:
                result.status = "failed"
                result.error = str(failure)
            run.finish(spec, started, job.totals)
        finally:
            job.stop()
    return result


class _TapsReporter:
    """Passes each participant's events through its own `MetricsTap`."""

    def __init__(self, taps: Mapping[str, MetricsTap]) -> None:
        self._taps = taps

    def report(self, party: str, event: Event) -> None:
        self._taps[party].report(party, event)


def _run_in_processes(
    spec: JobSpec, workdir: Path | None, reporter: Reporter | None, replay: _Replay
) -> JobResult:
    """`_run` with each participant in its own process that reads its own rows
    (vfl.process_simulation); the parts are registered here, from the workspaces."""
    run = _Start.of(spec, workdir, reporter, replay)
    result = run.result
    parties = [p.name for p in spec.parties]
    taps = {name: MetricsTap(run.collector, name) for name in run.participants}
    registries = {name: simulator_registry_dir(replay.home, name) for name in parties}
    with ProcessSimulation(
        spec,
        run.job_id,
        run.participants,
        run.root,
        registries,
        replay.party_secrets,
        replay.spec_digest,
        _TapsReporter(taps),
    ) as job:
        job.load()  # invalid data raises here, before any phase runs, as with threads
        started = time.perf_counter()
        try:
            for phase in spec.phases:
                result.timings[f"{phase}_s"] = job.run_phase(phase)
            if trains(spec):
                for name in parties:
                    register_trained_part(
                        SqliteModelRegistry(registries[name]),
                        spec,
                        run.job_id,
                        name,
                        Workspace(run.root / name),
                        taps[name].metrics,
                    )
        except PartyFailedError as failure:
            result.status = "failed"
            result.error = str(failure)
        run.finish(spec, started, job.totals)
    return result
