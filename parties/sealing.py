"""The seam where envelope bodies are sealed end to end before they leave a party.

The gRPC channel passes every outgoing envelope through `seal` and every delivered one
through `open`. `NoSealing` hands bodies through unchanged; sealing with per-job pairwise
keys (X25519 + HKDF + an AEAD over the header) plugs in here without touching programs,
the channel or the relay.
"""

from __future__ import annotations

from typing import Protocol

from vfl.protocol.envelope import Envelope


class EnvelopeSealer(Protocol):
    @property
    def name(self) -> str:
        """What the ledger records as the envelope's transport protection."""
        ...

    def seal(self, envelope: Envelope) -> Envelope:
        """The envelope as it may leave this party (same header, protected body)."""
        ...

    def open(self, envelope: Envelope) -> Envelope:
        """The delivered envelope with its body checked and opened; raises on tampering."""
        ...


class NoSealing:
    name = "none"

    def seal(self, envelope: Envelope) -> Envelope:
        return envelope

    def open(self, envelope: Envelope) -> Envelope:
        return envelope
