"""Which wire protocol this code speaks, and what to say when two ends disagree.

`PROTOCOL` is one integer, raised on any change to the messages or their meaning that an
older peer would get wrong; two ends are compatible only when it is equal (there is no
minor number: the coordinator and its parties upgrade together, and the refusal names
the side that is behind). The package version travels along only to be shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfl import __version__

PROTOCOL = 3
"""The protocol this code speaks (Hello, Welcome, PingReply carry it). 2: bodies are sealed
with per-job keys (PartyMessage.job_key, JobUpdate.job_keys), which a protocol-1 party
neither publishes nor reads. 3: ECDH-PSI blinds with X25519 on Elligator-2-hashed points
(psi/ecdh/group.py) instead of ristretto255: a protocol-2 peer's values do not match."""
UNVERSIONED = 1
"""What a peer that sends no version (0, from before versions were exchanged) speaks."""


@dataclass(frozen=True)
class Peer:
    """One end's versions: the protocol integer and the package version shown to people."""

    role: str
    """`party` or `coordinator`: who this end is, for the refusal line."""
    protocol: int
    package: str

    @classmethod
    def received(cls, role: str, protocol: int, package: str) -> Peer:
        """A peer as its message says, an unset protocol read as UNVERSIONED."""
        return cls(role, protocol or UNVERSIONED, package or "unknown")

    def label(self) -> str:
        return f"vfl {self.package} (protocol {self.protocol})"


def local(role: str) -> Peer:
    return Peer(role, PROTOCOL, __version__)


def refusal(coordinator: Peer, party: Peer) -> str | None:
    """None when both speak the same protocol; else one line saying who must upgrade."""
    if coordinator.protocol == party.protocol:
        return None
    older, newer = (
        (party, coordinator)
        if party.protocol < coordinator.protocol
        else (
            coordinator,
            party,
        )
    )
    return (
        f"coordinator speaks protocol {coordinator.protocol}, this party {party.protocol}: "
        f"upgrade the {older.role} (to vfl {newer.package}, as the {newer.role})"
    )
