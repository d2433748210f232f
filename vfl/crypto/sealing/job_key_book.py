"""The per-job key statements of a job's participants, as published, until a phase needs them.

Each participant of a sealed job publishes a fresh X25519 key for it, signed with its
certificate key (`JobKey`, job_key.py); its peers verify it, the coordinator only relays
it in job updates. The coordinator keeps its book in memory only, on purpose: a party
re-sends its statement whenever a job update lacks it (after a coordinator restart, every
update does), and the hosted program's own statement is made from its key file on demand.
A party node keeps the latest statements of each job's update in one too, and a phase
waits there until every peer's statement arrived. Statements are opaque bytes here (a
serialized `SealingKey`): whoever uses one verifies it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

WAIT_STEP_S = 1.0
"""How often a waiter re-checks `stop` while no statement arrives."""


class JobKeyBook:
    """{job: {participant: serialized SealingKey}}; waiters wake when a statement lands."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._keys: dict[str, dict[str, bytes]] = {}

    def put(self, job_id: str, party: str, statement: bytes) -> bool:
        """Store `party`'s statement for the job; True if it is new or different."""
        with self._changed:
            job = self._keys.setdefault(job_id, {})
            if job.get(party) == statement:
                return False
            job[party] = statement
            self._changed.notify_all()
            return True

    def replace_all(self, job_id: str, statements: dict[str, bytes]) -> None:
        """The job's statements are exactly `statements` (a party node, from an update)."""
        with self._changed:
            self._keys[job_id] = dict(statements)
            self._changed.notify_all()

    def get(self, job_id: str) -> dict[str, bytes]:
        with self._changed:
            return dict(self._keys.get(job_id, {}))

    def wait(
        self, job_id: str, names: Iterable[str], stop: Callable[[], bool]
    ) -> dict[str, bytes] | None:
        """The job's statements once all `names` published one; None if `stop()` first."""
        wanted = set(names)
        with self._changed:
            while not wanted <= self._keys.get(job_id, {}).keys():
                if stop():
                    return None
                self._changed.wait(WAIT_STEP_S)
            return dict(self._keys[job_id])

    def drop(self, job_id: str) -> None:
        with self._changed:
            self._keys.pop(job_id, None)
