"""Where a sender's nonce counters live: they must never hand out a value twice.

ChaCha20-Poly1305 under one key must never see the same nonce with two different
plaintexts. A program resumed after kill -9 re-sends its epoch under the same sequence
numbers, and its messages need not be byte-identical the second time (fresh Paillier
randomness, new PSI blinding), so the nonce cannot be derived from the sequence number.
It comes from a per-(job, sender, receiver) counter that survives restarts: the party
node keeps it in its SQLite (`NodeStore`), reserving blocks so that a restart skips the
rest of a block instead of writing once per message. `MemoryCounters` serves simulations
and tests, where no process restarts.
"""

from __future__ import annotations

import threading
from typing import Protocol


class NonceCounters(Protocol):
    def reserve(self, job_id: str, dst: str, count: int) -> int:
        """The first of `count` counter values for (job, dst) never reserved before.

        Durable implementations must have stored the reservation when they return.
        """
        ...


class MemoryCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[tuple[str, str], int] = {}

    def reserve(self, job_id: str, dst: str, count: int) -> int:
        with self._lock:
            first = self._next.get((job_id, dst), 0)
            self._next[(job_id, dst)] = first + count
            return first
