"""What each party received in a simulated job, decoded: the raw material of `vfl audit`.

Recording is opt-in (`vfl.simulate(..., transcript=Transcript())`) and lives in a wrapper
around each party's channel, so programs and transports are untouched and a job without a
transcript runs exactly as before. It stays in memory and is never written or logged: it
holds every gradient, activation and ciphertext a party received.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TypeVar

from vfl.errors import ProtocolError
from vfl.protocol import serde
from vfl.protocol.envelope import Envelope
from vfl.runtime.channel import Channel, ForwardingChannel

_M = TypeVar("_M")


@dataclass(frozen=True)
class Received:
    """One message as its receiver got it: who sent it, where in the program, and what."""

    sender: str
    kind: str
    """The message's class name (e.g. "CutGradient")."""
    seq: str
    """The sequence number, `scope#n` (e.g. "train/epoch=0/batch=3#0")."""
    message: Any
    """The decoded message object."""

    @property
    def scope(self) -> str:
        return self.seq.rpartition("#")[0]


class Transcript:
    """Per receiving party, every message it received in a simulated job, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: dict[str, list[Received]] = defaultdict(list)

    def channel(self, inner: Channel) -> Channel:
        """`inner`, recording every envelope its party receives into this transcript."""
        return _RecordingChannel(inner, self)

    def record(self, receiver: str, envelope: Envelope) -> None:
        try:
            cls = serde.message_class(envelope.kind)
            message = serde.decode(envelope.body, cls)
        except ProtocolError:
            return  # the receiving program fails on it with the real error
        entry = Received(envelope.src, cls.__name__, envelope.seq, message)
        with self._lock:
            self._received[receiver].append(entry)

    def received(self, party: str) -> list[Received]:
        """Everything `party` received, in the order it received it."""
        with self._lock:
            return list(self._received.get(party, []))

    def messages(self, party: str, cls: type[_M]) -> list[tuple[Received, _M]]:
        """The messages of class `cls` that `party` received, with their entries."""
        return [(r, r.message) for r in self.received(party) if isinstance(r.message, cls)]

    def one(self, party: str, sender: str, cls: type[_M], scope: str) -> _M:
        """The first message of class `cls` that `party` received from `sender` in `scope`."""
        for entry, msg in self.messages(party, cls):
            if entry.sender == sender and entry.scope == scope:
                return msg
        raise ProtocolError(
            f"transcript: {party} received no {cls.__name__} from {sender} in scope {scope}"
        )


class _RecordingChannel(ForwardingChannel):
    """A channel that hands its party's received envelopes to a transcript."""

    def __init__(self, inner: Channel, transcript: Transcript) -> None:
        super().__init__(inner)
        self._transcript = transcript

    def recv(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        envelope = self._inner.recv(job_id, src, seq, timeout)
        self._transcript.record(self.party, envelope)
        return envelope
