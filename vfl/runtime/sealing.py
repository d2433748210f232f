"""The seam where envelope bodies are sealed end to end before they leave a party.

Both channels pass every outgoing envelope through `seal` and every received one through
`open`: the gRPC channel always (the coordinator relays what it must not read), the
in-memory channel when a test or a simulation asks for it, so the one sealing code path is
exercised without sockets too. `NoSealing` hands bodies through unchanged; the real sealer
(`vfl.crypto.sealing.PairwiseSealer`) plugs in without touching programs or the relay.
"""

from __future__ import annotations

from typing import Protocol

from vfl.protocol.envelope import Envelope


class EnvelopeSealer(Protocol):
    @property
    def name(self) -> str:
        """What the ledger records as the envelope's transport sealing ("none" if none)."""
        ...

    def seal(self, envelope: Envelope) -> Envelope:
        """The envelope as it may leave this party (same header, protected body)."""
        ...

    def open(self, envelope: Envelope) -> Envelope:
        """The received envelope with its body checked and opened; ProtocolError if not."""
        ...


class NoSealing:
    name = "none"

    def seal(self, envelope: Envelope) -> Envelope:
        return envelope

    def open(self, envelope: Envelope) -> Envelope:
        return envelope
