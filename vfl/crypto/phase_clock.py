"""CPU seconds per protocol phase, so a benchmark can say which term bounds a batch.

Each Paillier side owns one clock and wraps its hot steps in `with clock("F2.decrypt")`.
It reads the calling thread's CPU time (a few hundred nanoseconds per block): with
`workers = 1` all crypto runs inline, so the totals are the party's whole CPU cost; with
a process pool they count only the parent's share (packing, waiting is free).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class PhaseClock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.thread_time()
        try:
            yield
        finally:
            spent = time.thread_time() - start
            self.seconds[phase] = self.seconds.get(phase, 0.0) + spent
            self.calls[phase] = self.calls.get(phase, 0) + 1

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()
