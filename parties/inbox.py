"""Envelopes delivered to this party, waiting for the program that will `recv` them.

New arrivals go to the journal first (durable, deduplicated) and then to memory; a
program restarted after a crash finds what arrived before it in the journal.
"""

from __future__ import annotations

import logging
import threading
import time

from parties.node_store import NodeStore
from vfl.errors import JobAbortedError, PeerUnavailableError
from vfl.protocol.envelope import Envelope

log = logging.getLogger(__name__)
_Key = tuple[str, str, str]  # job, src, seq


class Inbox:
    def __init__(self, store: NodeStore, party: str) -> None:
        self._store = store
        self._party = party
        self._cond = threading.Condition()
        self._mail: dict[_Key, Envelope] = {}
        self._taken: set[_Key] = set()  # received by a program of this process
        self._aborted: dict[str, str] = {}

    def deliver(self, data: bytes) -> None:
        """A delivery from the relay, stored before the link confirms it."""
        try:
            envelope = Envelope.from_bytes(data)
        except Exception:
            log.warning("dropped a delivery that is not a valid envelope (%d bytes)", len(data))
            return
        self.put(envelope, data)

    def put(self, envelope: Envelope, data: bytes) -> None:
        """Store a delivery. Raises nothing for duplicates: the first copy wins."""
        if envelope.dst != self._party:
            return  # the relay only routes this party's mail here; ignore anything else
        key = (envelope.job_id, envelope.src, envelope.seq)
        if not self._store.journal_put(*key, data):
            return
        with self._cond:
            self._mail[key] = envelope
            self._cond.notify_all()

    def take(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        key = (job_id, src, seq)
        deadline = time.monotonic() + timeout
        with self._cond:
            if key not in self._mail and key not in self._taken:
                stored = self._store.journal_get(*key)  # arrived before a restart
                if stored is not None:
                    self._taken.add(key)
                    return Envelope.from_bytes(stored)
            while key not in self._mail:
                if job_id in self._aborted:
                    raise JobAbortedError(f"job {job_id} aborted: {self._aborted[job_id]}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PeerUnavailableError(
                        f"no message {seq} from {src} within {timeout:.0f} s (job {job_id})"
                    )
                self._cond.wait(remaining)
            self._taken.add(key)
            return self._mail.pop(key)

    def abort(self, job_id: str, reason: str) -> None:
        with self._cond:
            self._aborted.setdefault(job_id, reason)
            self._cond.notify_all()

    def forget(self, job_id: str) -> None:
        """The job ended: drop its mail from memory and the journal."""
        with self._cond:
            for key in [k for k in self._mail if k[0] == job_id]:
                del self._mail[key]
            self._taken = {k for k in self._taken if k[0] != job_id}
        self._store.journal_drop(job_id)
