"""The deployment's `Channel`: envelopes go through the coordinator's relay.

Programs cannot tell it from `InMemoryChannel`: `send` returns once the relay stored the
envelope (so a checkpoint taken after it never loses a message), `recv` waits on the
party's inbox, duplicates are dropped by (job, src, seq), and an aborted job wakes every
waiter with JobAbortedError. Bodies pass through the sealer on the way out and in.
"""

from __future__ import annotations

from collections.abc import Callable

from vfl.errors import ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.runtime.inbox import Inbox
from vfl.runtime.sealing import EnvelopeSealer, NoSealing


class GrpcChannel:
    def __init__(
        self,
        party: str,
        send_bytes: Callable[[bytes], None],
        inbox: Inbox,
        sealer: EnvelopeSealer | None = None,
    ) -> None:
        self._party = party
        self._send_bytes = send_bytes  # CoordinatorLink.send_envelope in deployment
        self._inbox = inbox
        self._sealer: EnvelopeSealer = sealer or NoSealing()

    @property
    def party(self) -> str:
        return self._party

    @property
    def sealing(self) -> str:
        return self._sealer.name

    def send(self, envelope: Envelope) -> None:
        if envelope.src != self._party:
            raise ProtocolError(f"party {self._party} cannot send as {envelope.src}")
        self._send_bytes(self._sealer.seal(envelope).to_bytes())

    def recv(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        return self._sealer.open(self._inbox.take(job_id, src, seq, timeout))
