"""`[train] he_scheme`: which additively homomorphic scheme carries split learning's
cut-layer values, and what each scheme's key size means (docs/paillier.md, "OU").

Pure arithmetic, like paillier_bounds.py: the spec validator and the coordinator use it
without the crypto code.
"""

from __future__ import annotations

from enum import StrEnum

OU_EXTRA_KEY_BITS = 1024
"""OU's n = p²q needs this many more bits than Paillier's n = pq for the same security on
every published argument (docs/paillier.md, "OU's security"): 3072-bit OU against 2048-bit
Paillier for ≥ 112 bits."""
OU_MASK_MARGIN_BITS = 42
"""A statistically masked b-bit packed value has b + 42 bits (vfl/crypto/ou_engine.py)."""


class HeScheme(StrEnum):
    """The homomorphic scheme of `protection = "paillier"` (the protection's name stays)."""

    PAILLIER = "paillier"
    """Paillier mod n²: plaintexts mod n (2,047 signed bits at 2048), masks uniform mod n."""
    OU = "ou"
    """Okamoto–Uchiyama mod n = p²q: plaintexts mod the secret p (a third of the key),
    statistical masks, every owner decryption bounded. Split learning only."""

    def min_key_bits(self, paillier_floor: int) -> int:
        """The smallest key this scheme accepts where Paillier's floor is `paillier_floor`."""
        return paillier_floor + (OU_EXTRA_KEY_BITS if self is HeScheme.OU else 0)

    def capacity_bits(self, key_bits: int) -> int:
        """What a slot layout may fill (`SlotLayout.for_key` takes it as its key size)."""
        if self is HeScheme.PAILLIER:
            return key_bits
        return (key_bits + 2) // 3 - OU_MASK_MARGIN_BITS + 1
