"""The simulator with every participant in its own process: `simulate(backend="processes")`.

In the thread simulator every torch op of every party takes the one GIL, so two parties
that could compute at once take turns: plain split training ran at 2–3× the time of the
same model trained centrally. Here each participant (every party, and the coordinator
when it hosts a program) is a `spawn`ed process running `vfl.process_participant`, with
a pipe to each peer (`MeshHub`) and a control pipe to this one. The programs, contexts,
workspaces, ledgers and party secrets are those of the thread simulator; only where they
run differs, so both give the same model.

This process never touches an envelope. It orders each phase, forwards events to the
caller's reporter, and on a failure aborts the other participants and raises it as
`PartyFailedError` naming the party. Everything it reads is a JSON frame; nothing is
unpickled. Participants are stopped with the job and killed if they do not stop; one
whose parent dies exits by itself.

This module is an entry point, as `vfl.ray_simulation` is: its children import the
party side (data sources, programs).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from itertools import combinations
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import cast

from vfl.config.job_spec import JobSpec
from vfl.errors import JobAbortedError, ProtocolError, VflError
from vfl.process_participant import ParticipantSetup, participant_main
from vfl.runtime.events import Reporter
from vfl.runtime.process_frames import FrameKind, decode_event, decode_failure, frame, parse
from vfl.runtime.simulator import PartyFailedError

_DONE = VflError("the phase ended")
"""`_on_frame`'s marker for a participant that ended its phase without a failure."""

STOP_GRACE_S = 5.0
"""How long a participant has to exit after STOP (or a failed job) before it is killed."""


def torch_threads(participants: int) -> int:
    """Intra-op threads per participant: `VFL_TORCH_THREADS`, else the cores shared out,
    so that the participants' thread pools together do not outnumber the cores."""
    configured = os.environ.get("VFL_TORCH_THREADS")
    if configured:
        return int(configured)
    return max(1, (os.cpu_count() or 1) // participants)


class ProcessSimulation:
    """The participants of one job as processes; a context manager that stops them all."""

    def __init__(
        self,
        spec: JobSpec,
        job_id: str,
        participants: list[str],
        root: Path,
        registries: Mapping[str, Path],
        party_secrets: Mapping[str, bytes],
        spec_digest: bytes | None,
        reporter: Reporter,
    ) -> None:
        self._job_id = job_id
        self._reporter = reporter
        self._children: dict[str, BaseProcess] = {}
        self._controls: dict[str, Connection] = {}
        self.totals: dict[str, dict[str, int]] = {name: {} for name in participants}
        mp = multiprocessing.get_context("spawn")
        ends: dict[str, dict[str, Connection]] = {name: {} for name in participants}
        for a, b in combinations(participants, 2):
            ends[a][b], ends[b][a] = mp.Pipe()
        threads = torch_threads(len(participants))
        try:
            for name in participants:
                mine, theirs = mp.Pipe()
                setup = ParticipantSetup(
                    spec=spec,
                    name=name,
                    job_id=job_id,
                    root=(root / name).resolve(),
                    registry=registries.get(name),
                    secret=party_secrets.get(name),
                    spec_digest=spec_digest,
                    torch_threads=threads,
                )
                child = mp.Process(
                    target=participant_main,
                    args=(setup, theirs, ends[name]),
                    name=f"vfl-{name}",
                    daemon=True,  # and if this process is killed, its pipe's EOF ends it
                )
                with _main_not_rerun():
                    child.start()
                theirs.close()
                self._children[name], self._controls[name] = child, mine
        except BaseException:
            self.stop()
            raise
        finally:  # each child holds its own copies now
            for peer_ends in ends.values():
                for conn in peer_ends.values():
                    conn.close()

    def __enter__(self) -> ProcessSimulation:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def load(self) -> None:
        """Every participant reads its rows; the first invalid one raises its own error
        here (ConfigError, DataValidationError), before any phase runs, as with threads."""
        first: VflError | None = None
        for name, conn in self._controls.items():
            try:
                kind, text = self._recv(name, conn)
            except VflError as died:  # it could not start (import error, killed)
                raise VflError(f"party {name}: {died}") from died
            if kind != FrameKind.LOADED:
                raise VflError(f"party {name}: sent {kind.name} before loading its rows")
            record = json.loads(text)
            if record is not None and first is None:
                first = decode_failure(record)
        if first is not None:
            raise first

    def run_phase(self, phase: str) -> float:
        """Run one phase on every participant; its wall time in seconds, as `run_phase`."""
        start = time.perf_counter()
        for conn in self._controls.values():
            conn.send_bytes(frame(FrameKind.RUN, phase))
        names = {id(conn): name for name, conn in self._controls.items()}
        running = list(self._controls.values())
        failures: dict[str, BaseException] = {}
        while running:
            for ready in wait(running):
                conn = cast(Connection, ready)  # wait returns the objects it was given
                name = names[id(conn)]
                try:
                    failure = self._on_frame(name, conn, phase)
                except VflError as error:  # it died, or sent what no participant sends
                    failure = error
                if failure is None:
                    continue  # events: the phase goes on
                running.remove(conn)
                if failure is not _DONE:
                    failures[name] = failure
                    self._abort(name)
        elapsed = time.perf_counter() - start
        if failures:
            real = {p: e for p, e in failures.items() if not isinstance(e, JobAbortedError)}
            party, cause = next(iter((real or failures).items()))
            raise PartyFailedError(party, cause) from cause
        return elapsed

    def _on_frame(self, name: str, conn: Connection, phase: str) -> BaseException | None:
        """Handle one frame: None while the phase runs, `_DONE` at its clean end, else the
        participant's failure."""
        kind, text = self._recv(name, conn)
        try:
            if kind == FrameKind.EVENTS:
                for record in json.loads(text):
                    self._reporter.report(name, decode_event(record))
                return None
            if kind != FrameKind.DONE:
                raise ProtocolError(f"sent {kind.name} while running {phase}")
            outcome = json.loads(text)
            self.totals[name] = {k: int(v) for k, v in outcome["totals"].items()}
            if outcome["failure"] is None:
                return _DONE
            return decode_failure(outcome["failure"])
        except (ValueError, KeyError, TypeError, AttributeError) as bad:  # malformed JSON
            raise ProtocolError(f"control frame {kind.name} does not fit: {bad}") from bad

    def stop(self) -> None:
        """Ask every participant to exit; kill those still running after the grace."""
        for conn in self._controls.values():
            with suppress(OSError):  # already gone
                conn.send_bytes(frame(FrameKind.STOP))
        deadline = time.monotonic() + STOP_GRACE_S
        for child in self._children.values():
            child.join(timeout=max(0.0, deadline - time.monotonic()))
        for child in self._children.values():
            if child.is_alive():
                child.kill()
                child.join()
        for conn in self._controls.values():
            conn.close()
        self._controls.clear()

    def _abort(self, failed: str) -> None:
        reason = f"party {failed} failed"
        for name, conn in self._controls.items():
            if name != failed:
                with suppress(OSError):  # it ended; its own outcome says why
                    conn.send_bytes(frame(FrameKind.ABORT, reason))

    def _recv(self, name: str, conn: Connection) -> tuple[FrameKind, str]:
        try:
            return parse(conn.recv_bytes())
        except (EOFError, OSError):
            child = self._children[name]
            child.join(timeout=1.0)
            raise VflError(f"its process exited with code {child.exitcode}") from None


@contextmanager
def _main_not_rerun() -> Iterator[None]:
    """Start a spawned child without it re-importing this process's `__main__`.

    spawn re-runs the parent's main module by name or path in every child: a user's script
    without an `if __name__ == "__main__":` guard would run its whole job again, and once a
    Streamlit app ran in this process (the dashboard tests, AppTest) `__main__` is that
    app, which fails outside a session. The child needs nothing from it — its target and
    arguments live in importable modules — so the parent shows spawn a bare main module
    while the child is prepared."""
    real = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real
