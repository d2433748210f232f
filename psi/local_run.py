"""Run a two-party PSI on two local files, each party in its own process.

Used by `vfl psi` and `benchmarks/psi.py`. The left file's party is the label holder (the
star centre), the right one the feature holder. Each party streams its IDs from its CSV
(`CsvIds`), runs the same programs a job runs, writes its aligned IDs to
`OUT/<party>/aligned_ids.txt` and sends back JSON with its count, seconds, bytes and peak
resident memory (its own process and, separately, its worker processes).
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from psi.ids import CsvIds, LocalIds
from vfl.config.job_spec import (
    AlignSpec,
    JobSection,
    PartySpec,
    VerticalJobSpec,
    VerticalPartySpec,
    VerticalTrainSpec,
)
from vfl.config.phase_plan import Phase
from vfl.errors import (
    ConfigError,
    DataValidationError,
    PeerUnavailableError,
    ProtocolError,
    VflError,
)
from vfl.runtime.events import AlignReport, Event, Progress
from vfl.runtime.program import Program

ProgramLookup = Callable[[VerticalJobSpec, str, PartySpec, LocalIds | None], Program]
"""The program registry (`parties.align_programs.align_program_for`: the align entries of
`parties.programs`, without the training code), handed in by the caller: psi imports no
party-side package, and the registry is one table for jobs and local runs."""

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
    """The party process's own peak (VmHWM on Linux)."""
    workers_peak_rss_bytes: int
    """Largest RUSAGE_CHILDREN peak of the party's worker subprocesses: an upper bound, as
    a child counts the party's own pages between its fork and exec if it forked."""
    aligned_ids: str | None
    error: str | None = None
    cpu_seconds: float = 0.0
    """User and system CPU of the party's own process."""
    workers_cpu_seconds: float = 0.0
    """The same, summed over its finished worker subprocesses (rr22: the spu child)."""


def job_for(left: Side, right: Side, align: AlignSpec, timeout_s: float) -> VerticalJobSpec:
    """A job spec for the two files. Only `[align]` and the roles matter; the label column
    is required by the spec for a label holder and never read by an align program. Nothing
    trains on the rows, so any count is an answer: `align.min_intersection` is off."""
    return VerticalJobSpec(
        job=JobSection(name="psi"),
        parties=[
            VerticalPartySpec(
                name=LEFT,
                role="label_holder",
                data=str(left.path),
                id_column=left.column,
                label_column=left.column,
            ),
            VerticalPartySpec(
                name=RIGHT, role="feature_holder", data=str(right.path), id_column=right.column
            ),
        ],
        align=align.model_copy(update={"min_intersection": 0}),
        train=VerticalTrainSpec(timeout_s=timeout_s),
    )


class _PipeReporter:
    """Keeps the party's AlignReport; forwards progress to the parent as `[done, total]`."""

    def __init__(self, conn: Connection, forward: bool) -> None:
        self._conn = conn
        self._forward = forward
        self.align: AlignReport | None = None

    def report(self, party: str, event: Event) -> None:
        if isinstance(event, AlignReport):
            self.align = event
        elif isinstance(event, Progress) and self._forward:
            self._conn.send_bytes(json.dumps([event.done, event.total]).encode())


def _party_main(
    job_json: str,
    party: str,
    out: str,
    workers: int | None,
    programs: ProgramLookup,
    conn: Connection,
    result: Connection,
) -> None:
    # Imported here: the runtime pulls in torch (checkpoints); a party process that needs
    # only PSI starts in a fraction of a second.
    from psi.pipe_channel import PipeChannel  # noqa: PLC0415
    from vfl.runtime.context import party_context  # noqa: PLC0415
    from vfl.runtime.ledger import MemoryLedger  # noqa: PLC0415
    from vfl.runtime.workspace import Workspace  # noqa: PLC0415

    job = VerticalJobSpec.model_validate_json(job_json)
    spec = job.party(party)
    ledger = MemoryLedger()
    workspace = Workspace(Path(out) / party)
    reporter = _PipeReporter(result, forward=party == LEFT)
    started = time.perf_counter()
    error = None
    try:
        source = CsvIds(Path(spec.data), spec.id_column, job.align.normalize)
        program = programs(job, Phase.ALIGN, spec, LocalIds(source, workers))
        ctx = party_context(
            job,
            party,
            JOB_ID,
            Phase.ALIGN,
            channel=PipeChannel(party, conn),
            workspace=workspace,
            reporter=reporter,
            ledger=ledger,
        )
        program.run(ctx)
    except VflError as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    totals = ledger.totals(JOB_ID)
    aligned = workspace.root / "aligned_ids.txt"
    report = reporter.align
    out_result = SideResult(
        party=party,
        rows=report.rows if report else 0,
        intersection_size=report.intersection_size if report else -1,
        seconds=seconds,
        bytes_sent=totals.get("sent", 0),
        bytes_received=totals.get("received", 0),
        peak_rss_bytes=_own_peak_rss(),
        workers_peak_rss_bytes=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
        aligned_ids=str(aligned) if aligned.exists() else None,
        error=error,
        cpu_seconds=_cpu(resource.RUSAGE_SELF),
        workers_cpu_seconds=_cpu(resource.RUSAGE_CHILDREN),
    )
    result.send_bytes(json.dumps({"result": out_result.__dict__}).encode())
    result.close()


def _own_peak_rss() -> int:
    """This process's own peak resident memory. Linux's `ru_maxrss` also counts what the
    process held before its exec, so a party started by a large parent (the benchmark
    after building 10^7 IDs) would report the parent's size; `VmHWM` is reset by exec."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_two_party(
    left: Side,
    right: Side,
    align: AlignSpec,
    out: Path,
    workers: int | None = None,
    timeout_s: float = 3600,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    programs: ProgramLookup,
) -> tuple[SideResult, SideResult, float]:
    """Run both parties; return their results and the wall time of the whole run.
    `programs` is the program registry (`align_program_for`), a module-level
    function: each party's process imports it by module and name.

    Each party is a plain `python -m psi.local_run` subprocess, never a multiprocessing
    child: spawn and forkserver children re-run the parent's `__main__` by path, which is
    a user's unguarded script, or a Streamlit app once one ran in this process."""
    for side in (left, right):
        CsvIds(side.path, side.column)  # fail fast on a missing file or column
    job = job_for(left, right, align, timeout_s).model_dump_json()
    lookup = f"{programs.__module__}:{programs.__qualname__}"
    a, b = socket.socketpair()
    results: dict[str, SideResult] = {}
    started = time.perf_counter()
    procs = []
    readers = []
    for party, link in ((LEFT, a), (RIGHT, b)):
        mine, theirs = os.pipe()
        config = {"job": job, "party": party, "out": str(out), "workers": workers}
        proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "psi.local_run", lookup, str(link.fileno()), str(theirs)],
            stdin=subprocess.PIPE,
            pass_fds=(link.fileno(), theirs),
        )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(config).encode())
        proc.stdin.close()
        os.close(theirs)  # the child holds its own copy: if it dies, recv sees EOF, not a hang
        procs.append(proc)
        readers.append((party, Connection(mine)))
    a.close()
    b.close()
    for party, reader in readers:
        try:
            while True:
                message = json.loads(reader.recv_bytes())
                if isinstance(message, dict):
                    results[party] = SideResult(**message["result"])
                    break
                if on_progress is not None:
                    on_progress(int(message[0]), int(message[1]))
        except EOFError:
            pass  # the process died without a result; reported below
        finally:
            reader.close()
    for proc in procs:
        proc.wait()
    wall = time.perf_counter() - started
    _raise_first_cause(results)
    return results[LEFT], results[RIGHT], wall


def _raise_first_cause(results: dict[str, SideResult]) -> None:
    """The real failure, not the peer that only saw the connection close."""
    errors = [r.error for r in results.values() if r.error is not None]
    real = [e for e in errors if not e.startswith("PeerUnavailableError")]
    for error in real or errors:
        kind, _, message = error.partition(": ")
        classes: dict[str, type[VflError]] = {
            "ConfigError": ConfigError,
            "DataValidationError": DataValidationError,
            "PeerUnavailableError": PeerUnavailableError,
        }
        raise classes.get(kind, ProtocolError)(message)
    for party in (LEFT, RIGHT):
        if party not in results:
            raise ProtocolError(f"party {party} exited without a result")


def _child() -> None:
    """`python -m psi.local_run MODULE:NAME LINK_FD RESULT_FD`, the party's settings as
    JSON on stdin (what `run_two_party` starts: one party, then exit)."""
    lookup, link_fd, result_fd = sys.argv[1:4]
    module, _, name = lookup.partition(":")
    programs: ProgramLookup = getattr(importlib.import_module(module), name)
    config = json.loads(sys.stdin.buffer.read())
    _party_main(
        config["job"],
        config["party"],
        config["out"],
        config["workers"],
        programs,
        Connection(int(link_fd)),  # one end of a socketpair, as multiprocessing's Pipe
        Connection(int(result_fd)),
    )


if __name__ == "__main__":
    _child()
