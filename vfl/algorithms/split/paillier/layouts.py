"""Bounds, slot layouts and ciphertext indexing shared by both sides of the exchange.

Both parties derive the same layouts from the job spec, the key size and the cut width,
so no layout is negotiated on the wire (the receiver checks the sender used it).

Bounds (real magnitudes; encoding fails loudly past them, decoding detects overflow):
  |a| < 2^A_BITS, |δ| < 2^DELTA_BITS, |V|, |acc| < 2^SHARE_BITS,
  |a·W|, |δ·Wᵀ| < 2^RESULT_BITS, the gradient mask |ε| < 2^MASK_BITS.
Products of two encoded values carry 2f fractional bits (f = train.precision_bits).
"""

from __future__ import annotations

from dataclasses import dataclass

from vfl.crypto.packing import SlotLayout

A_BITS = 12
DELTA_BITS = 8
SHARE_BITS = 40
RESULT_BITS = 16
MASK_BITS = 32
"""ε uniform in ±2^32 hides each entry of aᵀδ (|·| ≲ 2^4 in practice) from the label
holder up to statistical distance ~2^-28 per entry and batch (docs/paillier.md)."""


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Layouts:
    f: int
    d: int
    u: int
    batch: SlotLayout
    """F1/F2/F3: [[a]] packed along the batch; results z_F = a·W per slot."""
    rows: SlotLayout
    """F1b/B1/B2: [[a]] packed along features (one row per ciphertext chunk); results aᵀδ+ε."""
    acc: SlotLayout
    """F1b/B4: [[acc]] packed along features, p rows per ciphertext; results δ·Wᵀ."""

    @staticmethod
    def build(key_bits: int, f: int, d: int, u: int, packing: bool) -> Layouts:
        return Layouts(
            f,
            d,
            u,
            SlotLayout.for_key(key_bits, 2 * f + RESULT_BITS, packing),
            SlotLayout.for_key(key_bits, 2 * f + MASK_BITS + 1, packing),
            SlotLayout.for_key(key_bits, 2 * f + RESULT_BITS, packing),
        )

    # batch layout: ciphertext (k, g) holds a[g·s : (g+1)·s, k]
    def groups(self, rows: int) -> int:
        return _ceil(rows, self.batch.slots)

    # rows layout: ciphertext (i, c) holds a[i, c·s_r : (c+1)·s_r]
    @property
    def row_chunks(self) -> int:
        return _ceil(self.d, self.rows.slots)

    # acc layout: chunk length cl, rows per ciphertext p, chunks per row C
    @property
    def acc_chunk(self) -> int:
        return min(self.d, self.acc.slots)

    @property
    def acc_chunks(self) -> int:
        return _ceil(self.d, self.acc_chunk)

    @property
    def acc_rows(self) -> int:
        return self.acc.slots // self.acc_chunk

    def acc_index(self, t: int, j: int, c: int) -> int:
        return (t * self.u + j) * self.acc_chunks + c

    @property
    def acc_count(self) -> int:
        return self.acc_rows * self.u * self.acc_chunks
