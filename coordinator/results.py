"""A job's result from the store: the same JSON as `vfl simulate --json`.

Events are folded by the simulator's own `ResultCollector` (kept per job by the
`ResultBook`, as they arrive), so a deployed job and a simulated one cannot drift apart in
what their results contain. A read costs the same however many events the job reported.
"""

from __future__ import annotations

from typing import Any

from coordinator.result_book import ResultBook
from coordinator.store import Job, Store
from vfl.config.phase_plan import JobState


def job_result(store: Store, book: ResultBook, job: Job) -> dict[str, Any]:
    result = book.result(job)
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
    if job.state == JobState.SUCCEEDED:
        result.models = {p.name: p.model_path or "" for p in job.parties}
    result.error = job.error if job.state in (JobState.FAILED, JobState.CANCELLED) else None
    out = result.to_dict()
    out["status"] = job.state  # running jobs show their phase; finished ones match simulate
    return out
