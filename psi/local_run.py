"""Run a two-party PSI on two local files, each party in its own process.

Used by `vfl psi` and `benchmarks/psi.py`. The left file's party is the label holder (the
star centre), the right one the feature holder. Each party streams its IDs from its CSV
(`CsvIds`), runs the same programs a job runs, writes its aligned IDs to
`OUT/<party>/aligned_ids.txt` and sends back JSON with its count, seconds, bytes and peak
resident memory (its own process and, separately, its worker processes).
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from psi.ids import CsvIds
from psi.pipe_channel import PipeChannel
from psi.registry import align_program
from vfl.config.job_spec import AlignSpec, JobSection, JobSpec, PartySpec, TrainSpec
from vfl.errors import ConfigError, DataValidationError, ProtocolError, VflError
from vfl.runtime.context import PartyContext
from vfl.runtime.events import NullReporter
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.workspace import Workspace

JOB_ID = "psi-local"
LEFT, RIGHT = "left", "right"


@dataclass(frozen=True)
class Side:
    path: Path
    column: str


@dataclass(frozen=True)
class SideResult:
    party: str
    rows: int
    intersection_size: int
    seconds: float
    bytes_sent: int
    bytes_received: int
    peak_rss_bytes: int
    workers_peak_rss_bytes: int
    aligned_ids: str | None
    error: str | None = None


def job_for(left: Side, right: Side, align: AlignSpec, timeout_s: float) -> JobSpec:
    """A job spec for the two files. Only `[align]` and the roles matter; the label column
    is required by the spec for a label holder and never read by an align program."""
    return JobSpec(
        job=JobSection(name="psi"),
        parties=[
            PartySpec(
                name=LEFT,
                role="label_holder",
                data=str(left.path),
                id_column=left.column,
                label_column=left.column,
            ),
            PartySpec(
                name=RIGHT, role="feature_holder", data=str(right.path), id_column=right.column
            ),
        ],
        align=align,
        train=TrainSpec(timeout_s=timeout_s),
    )


def _party_main(
    job_json: str, party: str, out: str, workers: int | None, conn: Connection, result: Connection
) -> None:
    job = JobSpec.model_validate_json(job_json)
    spec = job.party(party)
    ledger = MemoryLedger()
    workspace = Workspace(Path(out) / party)
    started = time.perf_counter()
    error = None
    try:
        source = CsvIds(Path(spec.data), spec.id_column, job.align.normalize)
        program = align_program(job.align.protocol, spec.role, source, workers)
        ctx = PartyContext(
            party=party,
            role=spec.role,
            job=job,
            job_id=JOB_ID,
            channel=PipeChannel(party, conn),
            workspace=workspace,
            reporter=NullReporter(),
            ledger=ledger,
            scope="align",
        )
        program.run(ctx)
        rows = source.size_hint()
    except VflError as exc:
        error = f"{type(exc).__name__}: {exc}"
        rows = 0
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    totals = ledger.totals(JOB_ID)
    aligned = workspace.root / "aligned_ids.txt"
    size = sum(1 for _ in aligned.open()) if aligned.exists() and error is None else -1
    out_result = SideResult(
        party=party,
        rows=rows,
        intersection_size=size,
        seconds=seconds,
        bytes_sent=totals.get("sent", 0),
        bytes_received=totals.get("received", 0),
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        workers_peak_rss_bytes=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
        aligned_ids=str(aligned) if aligned.exists() else None,
        error=error,
    )
    result.send_bytes(json.dumps(out_result.__dict__).encode())
    result.close()


def run_two_party(
    left: Side,
    right: Side,
    align: AlignSpec,
    out: Path,
    workers: int | None = None,
    timeout_s: float = 3600,
) -> tuple[SideResult, SideResult, float]:
    """Run both parties; return their results and the wall time of the whole run."""
    for side in (left, right):
        CsvIds(side.path, side.column)  # fail fast on a missing file or column
    job = job_for(left, right, align, timeout_s).model_dump_json()
    context = multiprocessing.get_context("forkserver")
    a, b = context.Pipe(duplex=True)
    results: dict[str, SideResult] = {}
    started = time.perf_counter()
    procs = []
    readers = []
    for party, conn in ((LEFT, a), (RIGHT, b)):
        mine, theirs = context.Pipe(duplex=False)
        proc = context.Process(
            target=_party_main, args=(job, party, str(out), workers, conn, theirs), name=party
        )
        proc.start()
        procs.append(proc)
        readers.append((party, mine))
    a.close()
    b.close()
    for party, reader in readers:
        try:
            results[party] = SideResult(**json.loads(reader.recv_bytes()))
        except EOFError:
            raise ProtocolError(f"party {party} exited without a result") from None
    for proc in procs:
        proc.join()
    wall = time.perf_counter() - started
    for r in results.values():
        if r.error is not None and not r.error.startswith("PeerUnavailableError"):
            kind, _, message = r.error.partition(": ")
            cls = {"ConfigError": ConfigError, "DataValidationError": DataValidationError}
            raise cls.get(kind, ProtocolError)(message)
    return results[LEFT], results[RIGHT], wall
