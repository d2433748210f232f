"""The seam between programs and transport.

A program never sees a socket: it calls `ctx.send` / `ctx.recv`, and the party's channel
carries envelopes, in memory for simulation and tests, through the coordinator's relay
in deployment. Both implementations pass the same contract tests.
"""

from __future__ import annotations

from typing import Protocol

from vfl.protocol.envelope import Envelope


class Channel(Protocol):
    """One party's view of the envelopes of its jobs."""

    @property
    def party(self) -> str:
        """The party this channel sends as and receives for."""
        ...

    @property
    def sealing(self) -> str:
        """How bodies are sealed between parties on this channel ("none" if they are not)."""
        ...

    def send(self, envelope: Envelope) -> None:
        """Hand an envelope to the transport. `envelope.src` must be this party."""
        ...

    def recv(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        """Block until the envelope `seq` from `src` in `job_id` arrives.

        Raises PeerUnavailableError after `timeout` seconds and JobAbortedError once the
        job has been aborted. Delivering the same (job, src, seq) twice yields it once.
        """
        ...


class ForwardingChannel:
    """A channel that passes everything to `inner`: subclasses override what they watch
    (recording what a party receives, crashing before a chosen send in tests)."""

    def __init__(self, inner: Channel) -> None:
        self._inner = inner

    @property
    def party(self) -> str:
        return self._inner.party

    @property
    def sealing(self) -> str:
        return self._inner.sealing

    def send(self, envelope: Envelope) -> None:
        self._inner.send(envelope)

    def recv(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        return self._inner.recv(job_id, src, seq, timeout)
