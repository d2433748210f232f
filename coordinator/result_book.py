"""Each job's result, folded as its events arrive, so reading it costs the same however many
events the job reported.

Refolding every stored event on each `GetJob` made reads grow with the job (15,925 events
took a read from 12 ms to 214 ms). Since folding is idempotent (`ResultCollector`), the
book folds each admitted event once, when it is stored, and reads copy the folded result.
The store stays the record: a job the book has not seen since the coordinator started is
folded from its stored events once, on first use.

The book keeps the folds of the `max_jobs` jobs used last; an older one is folded again from
the store when asked (at most max_events_per_job events), so memory stays bounded however
many jobs the coordinator has served.

Step losses and progress arrive once per batch; beyond `max_events_per_job` stored events
they are dropped and counted. Epochs, metrics, align counts and privacy are bounded by the
job itself (one per epoch, split or party) and always kept, so the final result survives.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum

from coordinator.store import Job, Store
from vfl.protocol import reports
from vfl.protocol.reports import EventKind
from vfl.result import JobResult, ResultCollector
from vfl.runtime.events import Event, Progress

log = logging.getLogger(__name__)

DROPPABLE = frozenset({EventKind.STEP, EventKind.PROGRESS})
"""Kinds reported per batch: dropped beyond the cap, as they are not in the final result."""


class Recorded(Enum):
    """What became of an admitted event."""

    STORED = "stored"
    DROPPED = "dropped"


@dataclass
class _Fold:
    collector: ResultCollector
    progress: dict[str, Progress] = field(default_factory=dict)
    stored: int = 0
    dropped: int = 0

    def add(self, party: str, event: Event) -> None:
        if isinstance(event, Progress):
            seen = self.progress.get(event.phase)
            if seen is None or event.done > seen.done:
                self.progress[event.phase] = event
        else:
            self.collector.report(party, event)


class ResultBook:
    """The folded result and progress of every job the coordinator has served."""

    def __init__(self, store: Store, max_events_per_job: int, max_jobs: int = 256) -> None:
        self.store = store
        self.max_events_per_job = max_events_per_job
        self.max_jobs = max_jobs
        self.events_read = 0
        """Events read back from the store to fold (once per job while it stays in the book)."""
        self._folds: OrderedDict[str, _Fold] = OrderedDict()
        self._evicted_drops: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, job: Job, party: str, event: Event) -> Recorded:
        """Store an admitted event and fold it; a per-batch event beyond the cap is dropped."""
        with self._lock:
            fold = self._fold_of(job)
            if reports.kind_of(event) in DROPPABLE and fold.stored >= self.max_events_per_job:
                fold.dropped += 1
                if fold.dropped == 1:
                    log.warning("job %s: event cap %d reached", job.id, self.max_events_per_job)
                    self.store.log(
                        job.id,
                        "coordinator",
                        f"{self.max_events_per_job} events stored; "
                        "further step and progress events are dropped",
                    )
                return Recorded.DROPPED
            key = reports.dedupe_key(party, event)
            if self.store.put_event(job.id, party, key, reports.to_json(event)):
                fold.stored += 1
            fold.add(party, event)
            return Recorded.STORED

    def result(self, job: Job) -> JobResult:
        """A copy of the job's folded result (events only: no timings, bytes or models)."""
        with self._lock:
            return JobResult.from_dict(self._fold_of(job).collector.result.to_dict())

    def progress(self, job: Job) -> list[Progress]:
        """The furthest progress each phase reported (any party)."""
        with self._lock:
            return list(self._fold_of(job).progress.values())

    def dropped(self, job: Job) -> int:
        with self._lock:
            return self._fold_of(job).dropped

    def _fold_of(self, job: Job) -> _Fold:
        fold = self._folds.get(job.id)
        if fold is not None:
            self._folds.move_to_end(job.id)
        else:
            fold = _Fold(ResultCollector(JobResult(job=job.name, job_id=job.id, mode=job.mode)))
            stored = self.store.events(job.id)
            self.events_read += len(stored)
            for party, payload in stored:
                fold.add(party, reports.from_json(payload))
            fold.stored = len(stored)
            self._folds[job.id] = fold
            fold.dropped = self._evicted_drops.pop(job.id, 0)
            while len(self._folds) > self.max_jobs:
                old_id, old = self._folds.popitem(last=False)
                if old.dropped:  # the store does not count drops: keep the number
                    self._evicted_drops[old_id] = old.dropped
        return fold
