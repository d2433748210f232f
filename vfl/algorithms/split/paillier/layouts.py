"""Bounds, slot layouts and ciphertext indexing shared by both sides of the exchange.

Both parties derive the same layouts from the job spec, the key size and the cut width,
so no layout is negotiated on the wire (the receiver checks the sender used it).

Bounds on real magnitudes (encoding fails loudly past them, decoding detects overflow):
  |a| < 2^A_BITS, |δ| < 2^DELTA_BITS, |a·W|, |δ·Wᵀ| < 2^RESULT_BITS,
  each half of the initial interactive weights |W_L|, |W_F| < 2^INIT_BITS.
Products of two encoded values carry 2f fractional bits (f = train.precision_bits).

Mask widths come from these bounds and a statistical-distance target of 2^-STAT_BITS per
entry (docs/paillier.md, "Shares and masks"). For a uniform mask on [−2^k, 2^k) the
distributions of x + mask for two secrets x, x' with |x − x'| ≤ Δ are Δ/2^(k+1) apart:
- ε (B2, scale 2^2f) hides each entry of aᵀδ, |aᵀδ| < 2^(A_BITS+DELTA_BITS+⌈log2 B⌉) = 2^G,
  so Δ < 2^(G+2f+1) and k = G + 2f + STAT_BITS gives ≤ 2^-STAT_BITS (`eps_bits`);
- acc₀ (scale 2^f) hides F's half W_F inside M = W_F − acc₀, Δ < 2^(INIT_BITS+f+1), so
  k = INIT_BITS + f + 1 + STAT_BITS (`acc0_bits`).
V and acc then hold integers of ~100 bits: they are kept as exact Python integers (object
arrays), stored as WIDE_BYTES two's-complement bytes, and re-checked against that width
every step. Nothing requires them to fit a slot: every operation on them is linear mod n,
so the large terms cancel exactly (V + acc = W) and only the final a·W, δ·Wᵀ and aᵀδ + ε
must fit their slots, which `Layouts.build` sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vfl.config.paillier_bounds import (
    A_BITS,
    DELTA_BITS,
    INIT_BITS,
    RESULT_BITS,
    STAT_BITS,
    WIDE_BYTES,
    acc0_bits,
    eps_bits,
    gradient_bits,
)
from vfl.crypto.packing import SlotLayout

__all__ = [
    "A_BITS",
    "DELTA_BITS",
    "INIT_BITS",
    "RESULT_BITS",
    "STAT_BITS",
    "WIDE_BYTES",
    "Layouts",
    "acc0_bits",
    "eps_bits",
    "gradient_bits",
]


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
    """F1b/B1/B2: [[a]] packed along features (one row per ciphertext chunk); results aᵀδ+ε,
    so its slots are sized by the mask ε (`eps_bits`)."""
    acc: SlotLayout
    """F1b/B4: [[acc]] packed along features, p rows per ciphertext; results δ·Wᵀ."""

    batch_size: int
    """The training batch size B the rows layout (aᵀδ + ε) was sized for."""

    @staticmethod
    def build(key_bits: int, f: int, d: int, u: int, packing: bool, batch_size: int) -> Layouts:
        """Raises CryptoError when a slot cannot hold its value (too large B or f for the
        key): the spec validator calls `check_fits` so this surfaces before any job runs."""
        return Layouts(
            f,
            d,
            u,
            SlotLayout.for_key(key_bits, 2 * f + RESULT_BITS, packing),
            SlotLayout.for_key(key_bits, eps_bits(f, batch_size) + 1, packing),
            SlotLayout.for_key(key_bits, 2 * f + RESULT_BITS, packing),
            batch_size,
        )

    # batch layout: ciphertext (k, g) holds a[g·s : (g+1)·s, k]
    def groups(self, rows: int) -> int:
        return _ceil(rows, self.batch.slots)

    def unpack_batch(
        self, plains: list[int], rows: int, cols: int, n: int, what: str
    ) -> NDArray[np.float64]:
        """The rows×cols values (scale as packed) of batch-layout plaintexts, index
        col·groups + g holding rows g·s .. (g+1)·s of column col."""
        s, groups = self.batch.slots, self.groups(rows)
        out = np.zeros((rows, cols))
        for j in range(cols):
            for g in range(groups):
                count = min(s, rows - g * s)
                out[g * s : g * s + count, j] = self.batch.unpack(
                    plains[j * groups + g], n, count, what
                )
        return out

    def acc_outputs(self, rows: int) -> int:
        """Ciphertexts of B4's result for a batch of `rows`: p rows per ciphertext."""
        return _ceil(rows, self.acc_rows) * self.acc_chunks

    def unpack_acc_rows(
        self, plains: list[int], rows: int, n: int, what: str
    ) -> NDArray[np.float64]:
        """The rows×d values (scale as packed) of acc-layout plaintexts, B4's results: p
        rows per ciphertext, each row in chunks of `acc_chunk` features."""
        cl, p, d = self.acc_chunk, self.acc_rows, self.d
        out = np.zeros((rows, d))
        for r in range(-(-rows // p)):
            for c in range(self.acc_chunks):
                width = min(cl, d - c * cl)
                in_group = min(p, rows - r * p)
                vals = self.acc.unpack(plains[r * self.acc_chunks + c], n, in_group * cl, what)
                for t in range(in_group):
                    out[r * p + t, c * cl : c * cl + width] = vals[t * cl : t * cl + width]
        return out

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
