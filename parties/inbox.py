"""Envelopes delivered to this party, waiting for the program that will `recv` them.

New arrivals go to the journal first (durable, deduplicated) and then to memory; a
program restarted after a crash finds what arrived before it in the journal.
"""

from __future__ import annotations

import logging

from parties.node_store import NodeStore
from vfl.protocol.envelope import Envelope
from vfl.runtime.mailboxes import Mailboxes

log = logging.getLogger(__name__)


class Inbox:
    def __init__(self, store: NodeStore, party: str) -> None:
        self._store = store
        self._party = party
        self._mail: Mailboxes[Envelope] = Mailboxes()

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
        if self._store.journal_put(*key, data):
            self._mail.put(key, envelope)

    def take(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        def journaled() -> Envelope | None:  # arrived before a restart
            stored = self._store.journal_get(job_id, src, seq)
            return None if stored is None else Envelope.from_bytes(stored)

        return self._mail.take((job_id, src, seq), timeout, f"message {seq} from {src}", journaled)

    def abort(self, job_id: str, reason: str) -> None:
        self._mail.abort(job_id, reason)

    def forget(self, job_id: str) -> None:
        """The job ended: drop its mail from memory and the journal."""
        self._mail.forget(job_id)
        self._store.journal_drop(job_id)
