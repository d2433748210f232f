"""Messages every PSI protocol ends with: the agreed rows, or only their count.

    label holder L (star centre)            each feature holder F
    |<-- AlignCheck(has_alignment, digest) -----|  resume: reuse a stored alignment only
    |--- AlignCheck(reuse) -------------------->|  if every party holds the same one
    ... protocol-specific rounds (psi/ecdh, psi/rsa) ...
    |--- Selection(F's positions, in order) --->|  align mode
    |--- Cardinality(count) ------------------->|  cardinality-only mode

The agreed order is ascending by normalised ID (Python string order): every party can
check it locally, and it reveals nothing a party does not already know about rows it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from psi.chunks import Chunk
from vfl.protocol.content import Content
from vfl.protocol.serde import message


@message("psi.AlignCheck", Content.PLAIN)
@dataclass(frozen=True)
class AlignCheck:
    """F → L: whether F already stored an alignment for this job and its SHA-256.
    L → F: whether every party holds the same one (then nobody recomputes).

    Leakage: a hash of an intersection both sides already hold; nothing else.
    """

    has_alignment: bool
    digest: bytes


@message("psi.Selection", Content.PLAIN)
@dataclass(frozen=True)
class Selection(Chunk):
    """L → F: F's own positions of the shared rows, in the agreed order (int64 rows).

    Leakage: F learns which of its rows every party shares (the intersection, by design),
    nothing about any party's other rows. In star mode F does not learn its pairwise
    overlap with L beyond that, except under RSA where F may be the client (see psi/rsa).
    """


@message("psi.Cardinality", Content.PLAIN)
@dataclass(frozen=True)
class Cardinality:
    """L → F: how many rows every party shares. Leakage: that count only."""

    count: int
