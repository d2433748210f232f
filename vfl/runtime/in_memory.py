"""In-process transport: every party of a simulated job shares one hub.

Envelopes are still serialised to bytes, so byte counts, message decoding and checks are
exactly those of a deployment; only the socket is missing. A channel may be given a real
sealer, so the sealing code path of a deployment runs (and is tested) without sockets.
"""

from __future__ import annotations

from vfl.protocol.envelope import Envelope
from vfl.runtime.hub_channel import HubChannel
from vfl.runtime.mailboxes import Mailboxes
from vfl.runtime.sealing import EnvelopeSealer


class InMemoryHub:
    """Mailboxes keyed by (job, src, dst, seq); `abort` wakes every waiter of a job."""

    def __init__(self) -> None:
        self._mail: Mailboxes[bytes] = Mailboxes()

    def channel(self, party: str, sealer: EnvelopeSealer | None = None) -> InMemoryChannel:
        return InMemoryChannel(self, party, sealer)

    def abort(self, job_id: str, reason: str) -> None:
        self._mail.abort(job_id, reason)

    def pending(self, job_id: str) -> int:
        """Envelopes posted for the job and not yet received (0 after a clean run)."""
        return self._mail.pending(job_id)

    def post(self, envelope: Envelope) -> None:
        key = (envelope.job_id, envelope.src, envelope.dst, envelope.seq)
        self._mail.put(key, envelope.to_bytes())  # a duplicate is dropped: first copy wins

    def take(self, job_id: str, src: str, dst: str, seq: str, timeout: float) -> Envelope:
        data = self._mail.take((job_id, src, dst, seq), timeout, f"message {seq} from {src}")
        return Envelope.from_bytes(data)


class InMemoryChannel(HubChannel):
    """A party's handle on an `InMemoryHub`."""
