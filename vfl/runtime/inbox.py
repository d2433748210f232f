"""Envelopes delivered to this party (or to the coordinator's hosted programs), waiting
for the program that will `recv` them.

New arrivals go to the journal first (durable, deduplicated) and then to memory; a
program restarted after a crash finds what arrived before it in the journal.

A peer decides what it sends, not what this party stores: envelopes delivered but not yet
taken by a program ("unexpected" until then) count against a per-job budget. A delivery
that would exceed it is not journaled; the job is aborted here, naming the sender, so the
party's disk and memory stay bounded whatever a hostile job peer sends.

Either failure (the budget, or this party's own disk) reaches the waiting program as its
own error, not as JobAbortedError: a node takes that to mean the coordinator ended the job
and reports nothing, which left the job waiting forever in its phase.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import defaultdict

from vfl.errors import JobAbortedError, LocalFaultError, ProtocolError, VflError
from vfl.protocol.envelope import Envelope
from vfl.runtime.local_fault import describe_local_fault
from vfl.runtime.mailboxes import Mailboxes
from vfl.runtime.node_store import NodeStore

log = logging.getLogger(__name__)


DEFAULT_BUDGET_BYTES = 1 << 30
"""Untaken bytes a job's peers may leave at this party (party.toml inbox_budget_mb)."""


class Inbox:
    """This party's deliveries: journaled, then handed to the program that takes them."""

    def __init__(
        self, store: NodeStore, party: str, budget_bytes: int = DEFAULT_BUDGET_BYTES
    ) -> None:
        self._store = store
        self._party = party
        self._mail: Mailboxes[Envelope] = Mailboxes()
        self._budget = budget_bytes
        self._lock = threading.Lock()
        self._pending: dict[str, int] = defaultdict(int)  # job -> untaken bytes
        self._sizes: dict[tuple[str, str, str], int] = {}  # untaken key -> bytes
        # job -> why this party stopped storing its mail: a peer's flood or its own disk
        self._faults: dict[str, tuple[type[VflError], str]] = {}

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
        with self._lock:
            over = self._pending[envelope.job_id] + len(data) > self._budget
        if over:
            reason = (
                f"{envelope.src} sent more than {self._budget >> 20} MiB of messages this "
                f"party's programs have not asked for (inbox_budget_mb); dropped the rest"
            )
            log.warning("job %s: %s", envelope.job_id, reason)
            self._fail(envelope.job_id, ProtocolError, reason)
            return
        try:
            stored = self._store.journal_put(*key, data)  # False: a duplicate, first one won
        except (sqlite3.Error, OSError) as exc:
            # this party's own disk: fail its job here and now (attributed to it), rather
            # than raise into the coordinator link, which would reconnect forever
            reason = f"{self._party} cannot store messages: {describe_local_fault(exc)}"
            log.error("job %s: %s", envelope.job_id, reason)
            self._fail(envelope.job_id, LocalFaultError, reason)
            return
        if stored:
            with self._lock:
                self._pending[envelope.job_id] += len(data)
                self._sizes[key] = len(data)
            self._mail.put(key, envelope)

    def take(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        def journaled() -> Envelope | None:  # arrived before a restart
            stored = self._store.journal_get(job_id, src, seq)
            return None if stored is None else Envelope.from_bytes(stored)

        try:
            envelope = self._mail.take(
                (job_id, src, seq), timeout, f"message {seq} from {src}", journaled
            )
        except JobAbortedError:
            with self._lock:
                fault = self._faults.get(job_id)
            if fault is not None:
                raise fault[0](fault[1]) from None
            raise
        with self._lock:  # taken: no longer counts against the job's budget
            self._pending[job_id] -= self._sizes.pop((job_id, src, seq), 0)
        return envelope

    def abort(self, job_id: str, reason: str) -> None:
        self._mail.abort(job_id, reason)

    def aborted(self, job_id: str) -> str | None:
        """Why the job was aborted here, or None while it runs."""
        return self._mail.aborted(job_id)

    def reopen(self, job_id: str) -> None:
        """The job was resumed: programs may take its mail again. Nothing is dropped from
        the journal: it hands the restarted programs what peers sent before the failure."""
        self._mail.reopen(job_id)
        with self._lock:
            self._faults.pop(job_id, None)

    def _fail(self, job_id: str, error: type[VflError], reason: str) -> None:
        """Stop the job's programs here with `error`, which their phase reports."""
        with self._lock:
            self._faults.setdefault(job_id, (error, reason))
        self.abort(job_id, reason)

    def forget(self, job_id: str) -> None:
        """The job ended: drop its mail from memory and the journal."""
        self._mail.forget(job_id)
        self._store.journal_drop(job_id)
        with self._lock:
            self._pending.pop(job_id, None)
            self._faults.pop(job_id, None)
            for key in [k for k in self._sizes if k[0] == job_id]:
                del self._sizes[key]
