"""Messages of RSA blind-signature PSI between the label holder L and one feature holder.

The larger side signs (S, holds a fresh RSA key), the smaller is the client (C) and only
does cheap work: exponent 65537, one inverse and one hash per ID. Ties: L signs.

    S                                                C
    |<-- SetSize(rows) ---------------- / --- SetSize ->|  both ways; decides who signs
    |--- PublicKey(n, e) ----------------------------->|  C refuses n < align.key_bits
    |<-- Blinded(FDH(y)·r^e mod n, per y) -------------|  S refuses more than C's SetSize
    |--- Signed(Blinded^d, same order) --------------->|  C unblinds, checks s^e = FDH(y)
    |--- Tags(H(FDH(x)^d), S's shuffled order) ------->|  C matches tags
    |<-- Matches(positions) ---------------------------|  only when C is the feature holder
    then psi.Selection as in every protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

from psi.chunks import Chunk
from vfl.protocol.content import Content
from vfl.protocol.serde import message


@message("rsa.SetSize", Content.PLAIN)
@dataclass(frozen=True)
class SetSize:
    """The sender's number of IDs (or more, never fewer), and, from a client, the most
    values it may have signed. Leakage: the set size (every PSI reveals it)."""

    rows: int


@message("rsa.PublicKey", Content.PUBLIC_KEY)
@dataclass(frozen=True)
class PublicKeyMsg:
    """S → C: the fresh job key. Leakage: none."""

    modulus: bytes
    exponent: int


@message("rsa.Blinded", Content.BLINDED)
@dataclass(frozen=True)
class Blinded(Chunk):
    """C → S: FDH(id)·r^e mod n. Leakage: C's set size; r^e makes each value uniform."""


@message("rsa.Signed", Content.BLINDED)
@dataclass(frozen=True)
class Signed(Chunk):
    """S → C: each Blinded value^d, same order. Leakage: C gets signatures of its own IDs
    only, which it cannot forge for other IDs without d."""


@message("rsa.Tags", Content.BLINDED)
@dataclass(frozen=True)
class Tags(Chunk):
    """S → C: H(FDH(x)^d) of S's IDs (16 bytes), shuffled. Leakage: C learns which of its
    own IDs S holds (their pairwise intersection) and S's set size; other tags are
    pseudo-random to C."""


@message("rsa.Matches", Content.PLAIN)
@dataclass(frozen=True)
class Matches(Chunk):
    """F → L when F is the client: (L's shuffled position, F's shuffled position) of each
    shared row as two int64. Leakage: L learns the pairwise intersection (as under ECDH);
    F, being the client, has learnt it too — with several feature holders that is more
    than the rows all parties share, the price of letting the smaller side work less."""
