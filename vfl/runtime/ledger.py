"""A party's record of what it sent and received: kind, peer, bytes, protection, sealing.

This in-memory ledger counts; the party node's SQLite ledger (deployment) also keeps
every row. Both have this interface, so programs never know which one they write to.

Both also keep the SHA-256 of every plaintext body sent, per (job, receiver, sequence
number), first one wins: `PartyContext.send` refuses to send a different body under a
sequence number already used (see `remember_sent`).
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
    """Where a party's programs record their traffic; one per party, kept across restarts."""

    def record(self, entry: LedgerEntry) -> None: ...

    def totals(self, job_id: str) -> dict[str, int]:
        """{"sent": bytes, "received": bytes} for one job."""
        ...

    def remember_sent(self, job_id: str, dst: str, seq: str, digest: bytes) -> bytes:
        """Keep `digest` for the body sent to `dst` as `seq` unless one is kept already, and
        return the kept one: equal to `digest` for a first send or an identical re-send."""
        ...


class MemoryLedger:
    """The simulator's ledger: byte counts by job, direction and kind, and body digests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes: Counter[tuple[str, str]] = Counter()
        self._kinds: Counter[tuple[str, str, str]] = Counter()
        self._digests: dict[tuple[str, str, str], bytes] = {}

    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._bytes[(entry.job_id, entry.direction)] += entry.nbytes
            self._kinds[(entry.job_id, entry.direction, entry.kind)] += entry.nbytes

    def totals(self, job_id: str) -> dict[str, int]:
        with self._lock:
            return {d: self._bytes[(job_id, d)] for d in ("sent", "received")}

    def remember_sent(self, job_id: str, dst: str, seq: str, digest: bytes) -> bytes:
        with self._lock:
            return self._digests.setdefault((job_id, dst, seq), digest)

    def by_kind(self, job_id: str, direction: str) -> dict[str, int]:
        with self._lock:
            return {k: n for (j, d, k), n in self._kinds.items() if j == job_id and d == direction}
