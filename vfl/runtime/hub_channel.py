"""A party's channel on a hub of mailboxes: in one process (`InMemoryHub`) or a Ray actor
(`RayHub`). It seals what it posts and opens what it takes; the hub only stores bodies."""

from __future__ import annotations

from typing import Protocol

from vfl.errors import ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.runtime.sealing import EnvelopeSealer, NoSealing


class Hub(Protocol):
    """Mailboxes keyed by (job, src, dst, seq): first copy wins, `take` waits."""

    def post(self, envelope: Envelope) -> None: ...

    def take(self, job_id: str, src: str, dst: str, seq: str, timeout: float) -> Envelope: ...


class HubChannel:
    """`Channel` over a `Hub`, as one party: it may send only as itself."""

    def __init__(self, hub: Hub, party: str, sealer: EnvelopeSealer | None = None) -> None:
        self._hub = hub
        self._party = party
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
        self._hub.post(self._sealer.seal(envelope))

    def recv(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        return self._sealer.open(self._hub.take(job_id, src, self._party, seq, timeout))
