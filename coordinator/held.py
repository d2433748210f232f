"""What the relay holds, tallied in memory per mailbox, per job and per sender.

Summing the envelopes table on every put cost the relay half its throughput; the tally
answers the quota check without a query. It is the table's twin: loaded from it at start
(`reload`), changed by the mailbox on every put and confirm under one lock, and reloaded
after bulk drops. One coordinator process owns its store, so nobody else changes it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

Scope = tuple[str, ...]


class HeldTally:
    """Envelope count and bytes held, per ("box", job, dst), ("job", job), ("src", src)."""

    def __init__(self) -> None:
        self._count: dict[Scope, int] = defaultdict(int)
        self._bytes: dict[Scope, int] = defaultdict(int)

    @staticmethod
    def scopes(job_id: str, src: str, dst: str) -> tuple[Scope, Scope, Scope]:
        return ("box", job_id, dst), ("job", job_id), ("src", src)

    def held(self, scope: Scope) -> tuple[int, int]:
        return self._count.get(scope, 0), self._bytes.get(scope, 0)

    def add(self, job_id: str, src: str, dst: str, size: int, sign: int = 1) -> None:
        for scope in self.scopes(job_id, src, dst):
            self._count[scope] += sign
            self._bytes[scope] += sign * size
            if self._count[scope] <= 0:
                del self._count[scope], self._bytes[scope]

    def reload(self, rows: Iterable[tuple[str, str, str, int]]) -> None:
        """Start again from the table's (job, src, dst, size) rows."""
        self._count.clear()
        self._bytes.clear()
        for job_id, src, dst, size in rows:
            self.add(job_id, src, dst, size)
