"""Spread integer kernels over processes: gmpy2 holds the GIL, threads would not scale.

`workers = 1` runs everything inline (tests, and machines with one core); more workers
use a spawn-started process pool, so no torch or thread state is ever forked.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


def resolve_workers(requested: int) -> int:
    """0 means every core."""
    return requested if requested > 0 else max(os.cpu_count() or 1, 1)


class WorkerPool:
    def __init__(self, workers: int) -> None:
        self.workers = resolve_workers(workers)
        self._executor: Executor | None = None
        if self.workers > 1:
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )

    def submit(self, fn: Callable[..., _R], *args: Any) -> Future[_R]:
        if self._executor is None:
            future: Future[_R] = Future()
            future.set_result(fn(*args))
            return future
        return self._executor.submit(fn, *args)

    def map_split(self, fn: Callable[..., list[_R]], items: Sequence[_T], *args: Any) -> list[_R]:
        """fn(chunk, *args) over one chunk per worker, results concatenated in order."""
        if not items:
            return []
        parts = min(self.workers, len(items))
        size = -(-len(items) // parts)
        futures = [self.submit(fn, items[i : i + size], *args) for i in range(0, len(items), size)]
        out: list[_R] = []
        for f in futures:
            out.extend(f.result())
        return out

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
