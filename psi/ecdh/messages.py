"""Messages of ECDH-PSI on X25519 (psi/ecdh/group.py), star around the label holder L.

Keys a (L) and b (F) are fresh random scalars per job; H is hash-to-group.

    label holder L                                   feature holder F
    |--- Blinded(H(x)^a for L's x, L's order) --------->|
    |<-- Blinded(H(y)^b for F's y, F's shuffled order) -|
    |  L computes H(y)^ab                               |  F computes H(x)^ab
    |<-- Reblinded(H(x)^ab, L's order, 16 bytes) -------|
    |  L matches: which x equal some y                  |
    |--- psi.Selection(F's positions, agreed order) --->|

Cardinality-only: L sends no Blinded; instead every vector that lacks F's key goes to F as
a ChainRequest (masked by a fresh L scalar when there are several), F returns it with its
key applied and shuffled (ChainResult), and L counts values present in every vector:

    |<-- Blinded(H(y)^b) -------------------------------|
    |--- ChainRequest(H(x)^a·m, ...) ------------------>|  one per vector lacking b
    |<-- ChainResult(shuffled, ^b) ---------------------|
    |--- psi.Cardinality(count) ----------------------->|
"""

from __future__ import annotations

from dataclasses import dataclass

from psi.chunks import Chunk
from vfl.protocol.content import Content
from vfl.protocol.serde import message


@message("ecdh.Blinded", Content.BLINDED)
@dataclass(frozen=True)
class Blinded(Chunk):
    """H(id)^key for each of the sender's IDs, 32-byte X25519 u-coordinates.

    Leakage: the sender's set size. Under DDH the values are pseudo-random to anyone
    without the key; a shuffled order (F) hides the sender's file order.
    """


@message("ecdh.Reblinded", Content.BLINDED)
@dataclass(frozen=True)
class Reblinded(Chunk):
    """F → L: L's Blinded values raised to F's key, first 16 bytes, in L's order.

    Leakage: L learns which of its own IDs F also holds (the pairwise intersection) and,
    with more than one feature holder, keeps it; F learns nothing from sending it.
    """


@message("ecdh.ChainRequest", Content.BLINDED)
@dataclass(frozen=True)
class ChainRequest(Chunk):
    """L → F (cardinality-only): a vector still lacking F's key, 32-byte points.

    Leakage: its length (a set size). With several vectors in one round each carries a
    fresh mask from L, so F cannot compare them with each other.
    """


@message("ecdh.ChainResult", Content.BLINDED)
@dataclass(frozen=True)
class ChainResult(Chunk):
    """F → L (cardinality-only): the ChainRequest with F's key applied, shuffled.

    Leakage: once all keys are on, L can count values common to any subset of vectors:
    L learns the size of the intersection of every subset of parties that includes L,
    not which IDs. F learns nothing.
    """
