"""Spread integer kernels over processes: gmpy2 holds the GIL, threads would not scale.

`workers = 1` runs everything inline (tests, and machines with one core). More workers
are `python -m vfl.crypto.worker` subprocesses fed over pipes (see worker.py for why not
multiprocessing): no torch or thread state is forked, and the user's main module is never
re-imported. One feeder thread per worker takes tasks from a shared queue, so a slow
task never holds up the others; the threads wait on pipes, which releases the GIL.

The PSI group operations use the same pool (`psi.parallel`), allowed `psi.` functions.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from vfl.crypto.worker import ALLOWED_PREFIX, read_frame, write_frame
from vfl.errors import CryptoError, VflError

_T = TypeVar("_T")
_R = TypeVar("_R")
_Task = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], "Future[Any]"]


def resolve_workers(requested: int) -> int:
    """0 means every core."""
    return requested if requested > 0 else max(os.cpu_count() or 1, 1)


class WorkerPool:
    """`workers` subprocesses running functions of the `allowed` packages; `label` names
    the pool in its errors ("Paillier worker task failed: ...")."""

    def __init__(
        self, workers: int, allowed: tuple[str, ...] = (ALLOWED_PREFIX,), label: str = "Paillier"
    ) -> None:
        self.workers = resolve_workers(workers)
        self.label = label
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._threads: list[threading.Thread] = []
        if self.workers > 1:
            env = dict(os.environ)
            root = str(Path(__file__).resolve().parents[2])  # the directory holding `vfl`
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
            for k in range(self.workers):
                proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                    [sys.executable, "-m", "vfl.crypto.worker", *allowed],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=env,
                )
                thread = threading.Thread(
                    target=self._feed, args=(proc,), name=f"vfl-crypto-{k}", daemon=True
                )
                thread.start()
                self._procs.append(proc)
                self._threads.append(thread)

    def _feed(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        while (task := self._tasks.get()) is not None:
            fn, args, kwargs, future = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                write_frame(proc.stdin, (fn.__module__, fn.__name__, args, kwargs))
                reply = read_frame(proc.stdout)
            except OSError as exc:
                reply = (False, f"worker pipe failed: {exc}", None)
            if reply is None:
                future.set_exception(
                    CryptoError(f"a {self.label} worker process exited; see stderr")
                )
            elif reply[0]:
                future.set_result(reply[1])
            elif isinstance(reply[2], VflError):
                future.set_exception(reply[2])
            else:
                future.set_exception(CryptoError(f"{self.label} worker task failed: {reply[1]}"))

    def submit(self, fn: Callable[..., _R], *args: Any, **kwargs: Any) -> Future[_R]:
        future: Future[_R] = Future()
        if not self._procs:
            future.set_result(fn(*args, **kwargs))
        else:
            self._tasks.put((fn, args, kwargs, future))
        return future

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
        if not self._procs:
            return
        while True:  # cancel what has not started; the feeders finish what has
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[3].cancel()
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()
        for proc in self._procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()
        self._procs, self._threads = [], []
