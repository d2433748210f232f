"""A party's record of what it sent and received: kind, peer, bytes, protection, sealing.

This in-memory ledger counts; the party node's SQLite ledger (deployment) also keeps
every row. Both have this interface, so programs never know which one they write to.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LedgerEntry:
    job_id: str
    direction: str  # "sent" | "received"
    peer: str
    kind: str
    seq: str
    nbytes: int
    protection: str
    sealing: str = "none"
    """How the body was sealed between the parties (e.g. x25519-chacha20poly1305)."""


class Ledger(Protocol):
    def record(self, entry: LedgerEntry) -> None: ...

    def totals(self, job_id: str) -> dict[str, int]:
        """{"sent": bytes, "received": bytes} for one job."""
        ...


class MemoryLedger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes: Counter[tuple[str, str]] = Counter()
        self._kinds: Counter[tuple[str, str, str]] = Counter()

    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._bytes[(entry.job_id, entry.direction)] += entry.nbytes
            self._kinds[(entry.job_id, entry.direction, entry.kind)] += entry.nbytes

    def totals(self, job_id: str) -> dict[str, int]:
        with self._lock:
            return {d: self._bytes[(job_id, d)] for d in ("sent", "received")}

    def by_kind(self, job_id: str, direction: str) -> dict[str, int]:
        with self._lock:
            return {k: n for (j, d, k), n in self._kinds.items() if j == job_id and d == direction}
