"""Run every role of a job in one process, one thread per party, over an in-memory hub.

The programs are the deployment's programs; only the channel differs. When one party's
program fails, the hub aborts the job so its peers stop waiting, and the first real
error is raised with the party's name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from vfl.errors import JobAbortedError, VflError, failure_reason
from vfl.runtime.context import PartyContext
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.program import Program


@dataclass(frozen=True)
class PartyRun:
    """One party's program for a phase and the context it runs in."""

    program: Program
    ctx: PartyContext


class PartyFailedError(VflError):
    """A party's program failed; `party` names it and `cause` is the original error."""

    def __init__(self, party: str, cause: BaseException) -> None:
        super().__init__(f"party {party}: {failure_reason(cause)}")
        self.party = party
        self.cause = cause
        self.exit_code = cause.exit_code if isinstance(cause, VflError) else 1


def run_phase(hub: InMemoryHub, job_id: str, runs: Mapping[str, PartyRun]) -> float:
    """Run one phase to completion on every party; return its wall time in seconds."""
    failures: dict[str, BaseException] = {}
    lock = threading.Lock()

    def target(party: str, run: PartyRun) -> None:
        try:
            run.program.run(run.ctx)
        except BaseException as exc:  # reported to the caller below
            with lock:
                failures[party] = exc
            hub.abort(job_id, f"party {party} failed")

    start = time.perf_counter()
    threads = [
        threading.Thread(target=target, args=(party, run), name=f"vfl-{party}", daemon=True)
        for party, run in runs.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        real = {p: e for p, e in failures.items() if not isinstance(e, JobAbortedError)}
        party, cause = next(iter((real or failures).items()))
        raise PartyFailedError(party, cause) from cause
    return elapsed
