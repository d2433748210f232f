"""Messages of RR22 PSI (SecretFlow's, run by spu in a child process), star around L.

Each pairwise run is spu's own protocol; we only carry its link traffic. spu's link sends
each message to a local HTTP shim (psi/rr22/shim.py), which wraps it in a `Frame` and
sends it over the party's channel, so the coordinator relays sealed opaque bytes as for
every other protocol. L is spu's receiver (rank 0) and spu broadcasts the result.

    label holder L                                   feature holder F
    |<-- psi.AlignCheck / psi.AlignCheck ----------->|  resume check (psi/messages.py)
    |<-- rr22.SetSize / rr22.SetSize --------------->|  an empty side skips spu
    |<== rr22.Frame ... (spu's RR22 traffic) ======>|  both ways, numbered per direction
    |<-- rr22.Frame(end, failed) ------------------>|  both: my child is done (or died)
    |  both hold the pairwise intersection, as 16-byte keys sorted bytewise
    |--- psi.Selection(positions in that list) ---->|  the rows every party shares

Leakage (who learns what):
- RR22 reveals to both parties both set sizes (spu exchanges them) and, with the result
  broadcast, the pairwise intersection of L and F. With several feature holders each F
  thus learns its pairwise intersection with L, more than under `ecdh`, where F learns
  only the rows every party shares; `psi.Selection` then tells F which of those rows all
  parties share.
- The coordinator sees the number and sizes of frames in each direction and their timing
  (spu's message sizes grow with the set sizes, so it can estimate both), never contents.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfl.protocol.content import Content
from vfl.protocol.serde import message

MAX_FRAME_BYTES = (2 << 20) + (64 << 10)
"""Largest spu link message a peer may send in one frame: the link's HTTP payload limit
we set (2 MiB, so a sealed frame stays under the relay's 8 MiB gRPC limit) plus the
header spu wraps it in."""


@message("rr22.SetSize", Content.PLAIN)
@dataclass(frozen=True)
class SetSize:
    """How many IDs the sender brings, and a fresh random `attempt` id. spu fails on an
    empty set, so when either side has none both skip it and share no rows. spu's traffic
    is not reproducible: a party restarted mid-run draws another `attempt`, so the replay
    guard (`PartyContext.send`) stops it here, before a new child could talk to the peer's
    old one. Leakage: the sender's set size, which RR22 reveals anyway; 16 random bytes."""

    rows: int
    attempt: bytes


@message("rr22.Frame", Content.BLINDED)
@dataclass(frozen=True)
class Frame:
    """One message of spu's link, or (`end`) the sender's child finished.

    `index` counts the frames of one direction from 0; the end frame's index is the number
    of data frames before it. Leakage: RR22's own messages (OPRF/VOLE values, pseudo-
    random to the recipient except for the set sizes and intersection they reveal, see the
    module docstring); their sizes.
    """

    index: int
    data: bytes
    end: bool
    failed: bool = False
    """With `end`: the sender's child died, so the receiver stops its own at once instead
    of waiting out spu's receive timeout."""
