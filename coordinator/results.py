"""A job's result from the store: the same JSON as `vfl simulate --json`.

Stored events are folded by the simulator's own `ResultCollector`, so a deployed job and a
simulated one cannot drift apart in what their results contain.
"""

from __future__ import annotations

from typing import Any

from coordinator.store import Job, Store
from vfl.protocol import reports
from vfl.result import JobResult, ResultCollector
from vfl.runtime.events import Progress


def job_result(store: Store, job: Job) -> dict[str, Any]:
    result = JobResult(job=job.name, job_id=job.id, mode=job.mode)
    collector = ResultCollector(result)
    for party, payload in store.events(job.id):
        collector.report(party, reports.from_json(payload))
    timings = store.phase_timings(job.id)
    for t in timings:
        if t.finished_at is not None:
            result.timings[f"{t.phase}_s"] = t.finished_at - t.started_at
    ends = [t.finished_at for t in timings if t.finished_at is not None]
    if timings and ends:
        result.timings["total_s"] = max(ends) - timings[0].started_at
    result.bytes = {
        p.name: {"sent": p.bytes_sent, "received": p.bytes_received} for p in job.parties
    }
    if job.state == "succeeded":
        result.models = {p.name: p.model_path or "" for p in job.parties}
    result.error = job.error if job.state in ("failed", "cancelled") else None
    out = result.to_dict()
    out["status"] = job.state  # running jobs show their phase; finished ones match simulate
    return out


def progress(store: Store, job: Job) -> list[Progress]:
    """The furthest progress each phase reported (any party)."""
    best: dict[str, Progress] = {}
    for _, payload in store.events(job.id):
        event = reports.from_json(payload)
        if isinstance(event, Progress):
            seen = best.get(event.phase)
            if seen is None or event.done > seen.done:
                best[event.phase] = event
    return list(best.values())
