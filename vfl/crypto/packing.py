"""Many signed fixed-point values in one Paillier plaintext, in fixed-width slots.

A plaintext holds P = Σ_t v_t·2^(t·w) for signed integers v_t (so P itself may be negative
and is stored mod n). Homomorphic additions and multiplications by a scalar act on every
slot at once, and because everything is exact arithmetic mod n, intermediate slot values
may overflow freely: only the *final* value of every slot matters.

Headroom rule. A slot of w bits decodes exactly when every final slot value v satisfies
|v| < 2^(w-1) and s·w <= bits(n) - 2 (so |P| < n/2 and the centred residue of P mod n is P
itself). We size w = value_bits + GUARD_BITS + 1, where value_bits bounds the final |v|
(`product_bits` adds the factors' bits and ⌈log2 terms⌉ for a sum of products). Decoding
peels balanced digits from the low end; a digit with |v| >= 2^value_bits means the bound
was broken (a wrapped slot lands there with probability 1 - 2^-GUARD_BITS) and raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vfl.errors import CryptoError

GUARD_BITS = 6
"""Bits above the value bound: overflow shows up as an out-of-range digit."""


def product_bits(a_bits: int, b_bits: int, terms: int) -> int:
    """Bits of |Σ_terms a·b| given |a| < 2^a_bits and |b| < 2^b_bits."""
    return a_bits + b_bits + max(terms - 1, 0).bit_length()


@dataclass(frozen=True)
class SlotLayout:
    """`slots` values of `width` bits per plaintext; `value_bits` bounds each final value."""

    width: int
    slots: int
    value_bits: int

    @staticmethod
    def for_key(key_bits: int, value_bits: int, packing: bool = True) -> SlotLayout:
        width = value_bits + GUARD_BITS + 1
        slots = (key_bits - 2) // width if packing else 1
        if slots < 1:
            raise CryptoError(
                f"a {value_bits}-bit value does not fit a {key_bits}-bit key; lower "
                f"train.precision_bits"
            )
        return SlotLayout(width, slots, value_bits)

    @property
    def packed_bits(self) -> int:
        """Bits of a whole packed plaintext: |Σ v_t·2^(t·w)| < 2^(slots·width)."""
        return self.slots * self.width

    def pack(self, values: Sequence[int]) -> int:
        if len(values) > self.slots:
            raise CryptoError(f"{len(values)} values for {self.slots} slots")
        limit = 1 << self.value_bits
        total = 0
        for t, v in enumerate(values):
            if not -limit < v < limit:
                raise CryptoError(
                    f"slot value of {int(v).bit_length()} bits exceeds {self.value_bits}"
                )
            total += int(v) << (t * self.width)
        return total

    def unpack(self, plaintext: int, n: int, count: int, what: str) -> list[int]:
        """The `count` signed slot values of `plaintext` (a residue mod n)."""
        p = int(plaintext) % n
        if p > n // 2:
            p -= n
        half, full, limit = 1 << (self.width - 1), 1 << self.width, 1 << self.value_bits
        out = []
        for _ in range(count):
            digit = p & (full - 1)
            if digit >= half:
                digit -= full
            if not -limit < digit < limit:
                raise CryptoError(
                    f"{what}: a decrypted value overflowed its {self.value_bits}-bit slot; "
                    f"values grew beyond the fixed-point range (lower the learning rate or "
                    f"train.precision_bits)"
                )
            out.append(digit)
            p = (p - digit) >> self.width
        if p != 0:
            raise CryptoError(f"{what}: plaintext holds more than {count} slots; layout mismatch")
        return out
