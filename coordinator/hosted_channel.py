"""The `Channel` of the coordinator's hosted programs: the relay's mailbox, from inside.

A hosted program (participant `coordinator`) talks to parties exactly as they talk to
each other. `send` seals the body and stores the envelope in the addressed party's
mailbox, then wakes that party's session, as the relay does for a party's envelope; a
full mailbox is back-pressure (wait and try again until stored or the job is aborted).
Parties address `coordinator` through the normal relay; `deliver_pending` moves that mail
into the hosted inbox, which journals it in the coordinator's own SQLite before the
relay's copy is deleted, so a hosted program restarted after kill -9 is handed again what
parties already sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from coordinator.mailbox import Mailbox, PutResult
from vfl.config.phase_plan import COORDINATOR
from vfl.errors import JobAbortedError, ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.runtime.inbox import Inbox
from vfl.runtime.sealing import EnvelopeSealer

BATCH = 16
"""Mails read from the relay's store per query."""
FULL_WAIT_S = (0.02, 1.0)
"""First and longest wait before storing again into a full mailbox."""


class HostedChannel:
    def __init__(
        self,
        mailbox: Mailbox,
        wake: Callable[[str], None],
        inbox: Inbox,
        sealer: EnvelopeSealer,
    ) -> None:
        self._mailbox = mailbox
        self._wake = wake  # party -> wake its session's delivery loop
        self._inbox = inbox
        self._sealer = sealer
        self._last_id = 0

    @property
    def party(self) -> str:
        return COORDINATOR

    @property
    def sealing(self) -> str:
        return self._sealer.name

    def send(self, envelope: Envelope) -> None:
        if envelope.src != COORDINATOR:
            raise ProtocolError(f"the coordinator's channel cannot send as {envelope.src}")
        e = self._sealer.seal(envelope)
        data = e.to_bytes()
        wait = FULL_WAIT_S[0]
        while self._mailbox.put(e.job_id, e.src, e.dst, e.kind, e.seq, data) is PutResult.FULL:
            reason = self._inbox.aborted(e.job_id)
            if reason is not None:
                raise JobAbortedError(f"job {e.job_id} aborted: {reason}")
            time.sleep(wait)
            wait = min(2 * wait, FULL_WAIT_S[1])
        self._wake(e.dst)

    def recv(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        return self._sealer.open(self._inbox.take(job_id, src, seq, timeout))

    def deliver_pending(self) -> int:
        """Journal the mail parties addressed to `coordinator`, then drop the relay's copy;
        how many were moved (fewer than BATCH: nothing else is waiting)."""
        mails = self._mailbox.pending(COORDINATOR, self._last_id, BATCH)
        for mail in mails:
            self._inbox.deliver(mail.data)
            self._mailbox.confirm(COORDINATOR, mail.id)
            self._last_id = mail.id
        return len(mails)
