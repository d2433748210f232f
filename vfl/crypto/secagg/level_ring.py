"""The narrow ring Z/2^w in which secure int8 sums are masked: w = 16 or 32 bits, the
smallest that holds the sum of n parties' 8-bit levels.

Under secure aggregation with compression = int8 each party sends levels q ∈ [0, 255] on a
grid common to all parties (`public_grid.py`), so the aggregator needs Σ q exactly, and
Σ q ≤ n · 255. Capacity bound: the sum is exact in Z/2^w iff n · 255 < 2^w, so w = 16 for
n ≤ 257 parties, w = 32 for n ≤ 16,843,009; more is refused (`LevelRing.for_parties`).
Masks are uniform w-bit words (`ring.expand` with a narrow dtype), so a masked word
q + m mod 2^w is uniform whatever q is: the same one-time pad as in Z/2^64, 4x (w = 16) or
2x (w = 32) fewer bytes a coordinate.

On the wire the words travel as little-endian 16-bit limbs (one per word at w = 16, two at
w = 32), so one message type carries both widths and the receiver, which computes w from
the round's public party count, reads them back without trusting a width field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vfl.crypto.secagg.ring import AnyWords
from vfl.errors import ConfigError

TOP_LEVEL = 255
"""The largest 8-bit level: levels are 0..255."""
Limbs = npt.NDArray[np.uint16]


@dataclass(frozen=True)
class LevelRing:
    """Z/2^bits for a sum of 8-bit levels over a given number of parties."""

    bits: int

    @staticmethod
    def for_parties(parties: int) -> LevelRing:
        """The narrowest of Z/2^16 and Z/2^32 in which n · 255 cannot wrap; ConfigError
        (one line) if neither holds it."""
        for bits in (16, 32):
            if parties * TOP_LEVEL < 2**bits:
                return LevelRing(bits)
        raise ConfigError(
            f"secure int8 aggregation of {parties} parties could wrap 32 bits "
            f"({parties} · {TOP_LEVEL} ≥ 2^32); sample at most {(2**32 - 1) // TOP_LEVEL} "
            "parties a round or set compression = 'none'"
        )

    @property
    def dtype(self) -> type[np.unsignedinteger[Any]]:
        return np.uint16 if self.bits == 16 else np.uint32

    @property
    def limbs_per_word(self) -> int:
        return self.bits // 16

    def words(self, levels: npt.NDArray[np.integer[Any]]) -> AnyWords:
        """Levels (0..255) as words of this ring."""
        return levels.astype(self.dtype)

    def to_limbs(self, words: AnyWords) -> Limbs:
        """The words as little-endian 16-bit limbs, the message's wire form."""
        little = words.astype(np.dtype(self.dtype).newbyteorder("<"))
        return np.frombuffer(little.tobytes(), dtype="<u2").astype(np.uint16)

    def from_limbs(self, limbs: Limbs) -> AnyWords:
        """Words back from `to_limbs`'s limbs (their count is checked by the caller)."""
        little = limbs.astype(np.dtype("<u2"))
        return np.frombuffer(little.tobytes(), dtype=np.dtype(self.dtype).newbyteorder("<")).astype(
            self.dtype
        )
