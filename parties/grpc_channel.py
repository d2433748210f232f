"""The deployment's `Channel`: envelopes go through the coordinator's relay.

Programs cannot tell it from `InMemoryChannel`: `send` returns once the relay stored the
envelope (so a checkpoint taken after it never loses a message), `recv` waits on the
party's inbox, duplicates are dropped by (job, src, seq), and an aborted job wakes every
waiter with JobAbortedError. Bodies pass through the sealer on the way out and in.
"""

from __future__ import annotations

from collections.abc import Callable

from vfl.protocol.envelope import Envelope
from vfl.runtime.hub_channel import HubChannel
from vfl.runtime.inbox import Inbox
from vfl.runtime.sealing import EnvelopeSealer


class _Relay:
    """The `Hub` of a party node: posts go to the coordinator's relay, takes to the inbox."""

    def __init__(self, send_bytes: Callable[[bytes], None], inbox: Inbox) -> None:
        self._send_bytes = send_bytes  # CoordinatorLink.send_envelope in deployment
        self._inbox = inbox

    def post(self, envelope: Envelope) -> None:
        self._send_bytes(envelope.to_bytes())

    def take(self, job_id: str, src: str, dst: str, seq: str, timeout: float) -> Envelope:
        return self._inbox.take(job_id, src, seq, timeout)  # the inbox holds only our mail


class GrpcChannel(HubChannel):
    """A party node's channel: a `HubChannel` over the relay and the node's inbox."""

    def __init__(
        self,
        party: str,
        send_bytes: Callable[[bytes], None],
        inbox: Inbox,
        sealer: EnvelopeSealer | None = None,
    ) -> None:
        super().__init__(_Relay(send_bytes, inbox), party, sealer)
