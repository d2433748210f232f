"""Messages of the plain join (TEST ONLY: it reveals every ID to the label holder).

    feature holder F                   label holder L
    |-- IdList(all of F's IDs) ------->|   L intersects every list with its own
    |<-- Intersection(shared IDs) -----|   sorted; every party keeps these rows in this order

Leakage: L learns every feature holder's full ID set; each F learns the intersection.
Use an `ecdh` or `rsa` PSI protocol whenever the parties do not trust each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfl.protocol.content import Content
from vfl.protocol.serde import message


@message("join.IdList", Content.PLAIN)
@dataclass(frozen=True)
class IdList:
    """F → L: every normalised ID F holds. Reveals F's whole ID set to L."""

    ids: tuple[str, ...]


@message("join.Intersection", Content.PLAIN)
@dataclass(frozen=True)
class Intersection:
    """L → F: the shared IDs in the agreed order. Reveals the intersection to F."""

    ids: tuple[str, ...]
