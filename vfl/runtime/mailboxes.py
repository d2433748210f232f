"""Mail waiting for a `recv`: first copy wins, a deadline per wait, abort per job.

Both the simulator's hub and a party node's inbox hold envelopes this way; the waiting,
deduplication and abort rules are subtle enough to live in one place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from vfl.errors import JobAbortedError, PeerUnavailableError

_V = TypeVar("_V")
Key = tuple[str, ...]
"""A mailbox key; its first element is always the job id."""


class Mailboxes(Generic[_V]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._mail: dict[Key, _V] = {}
        self._taken: set[Key] = set()
        self._aborted: dict[str, str] = {}

    def put(self, key: Key, value: _V) -> bool:
        """Store `value` unless this key was stored or taken before (a duplicate)."""
        with self._cond:
            if key in self._taken or key in self._mail:
                return False
            self._mail[key] = value
            self._cond.notify_all()
            return True

    def take(
        self,
        key: Key,
        timeout: float,
        what: str,
        fallback: Callable[[], _V | None] | None = None,
    ) -> _V:
        """Wait for `key`; `what` names it in the timeout error ("message S from P").

        `fallback` is asked once, under the lock, for a key never stored nor taken here
        (a party's journal of what arrived before a restart).
        """
        job_id = key[0]
        deadline = time.monotonic() + timeout
        with self._cond:
            if fallback is not None and key not in self._mail and key not in self._taken:
                early = fallback()
                if early is not None:
                    self._taken.add(key)
                    return early
            while key not in self._mail:
                if job_id in self._aborted:
                    raise JobAbortedError(f"job {job_id} aborted: {self._aborted[job_id]}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PeerUnavailableError(f"no {what} within {timeout:.0f} s (job {job_id})")
                self._cond.wait(remaining)
            self._taken.add(key)
            return self._mail.pop(key)

    def take_now(self, key: Key) -> _V | None:
        """`take` without waiting: the value if it is here, else None; JobAbortedError
        once the job is aborted (for a caller that waits elsewhere, on its own pipes)."""
        with self._cond:
            if key in self._mail:
                self._taken.add(key)
                return self._mail.pop(key)
            if key[0] in self._aborted:
                raise JobAbortedError(f"job {key[0]} aborted: {self._aborted[key[0]]}")
            return None

    def abort(self, job_id: str, reason: str) -> None:
        """Wake every waiter of the job with JobAbortedError; the first reason sticks."""
        with self._cond:
            self._aborted.setdefault(job_id, reason)
            self._cond.notify_all()

    def aborted(self, job_id: str) -> str | None:
        """Why the job was aborted, or None while it runs."""
        with self._cond:
            return self._aborted.get(job_id)

    def pending(self, job_id: str) -> int:
        with self._cond:
            return sum(1 for key in self._mail if key[0] == job_id)

    def reopen(self, job_id: str) -> None:
        """An aborted job runs again (resumed): forget the abort and what was taken."""
        self.forget(job_id)
        with self._cond:
            self._aborted.pop(job_id, None)

    def forget(self, job_id: str) -> None:
        """The job ended: drop its mail and its record of what was taken."""
        with self._cond:
            for key in [k for k in self._mail if k[0] == job_id]:
                del self._mail[key]
            self._taken = {k for k in self._taken if k[0] != job_id}
