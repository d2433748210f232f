"""The bounds every Paillier layout and mask width is derived from (docs/paillier.md).

Pure arithmetic, no crypto: the job spec validator uses it to refuse a batch size the
packing cannot hold before any job runs, and the coordinator (which never imports torch
or the crypto code) validates specs too. The reasoning is in
vfl/algorithms/split/paillier/layouts.py's docstring.
"""

from __future__ import annotations

from vfl.crypto.packing import GUARD_BITS

A_BITS = 12
DELTA_BITS = 8
RESULT_BITS = 16
INIT_BITS = 0
STAT_BITS = 40
"""Statistical distance target per masked entry: 2^-40."""
WIDE_BYTES = 64
"""Storage of one share entry (V, acc): 511 bits and a sign, checked every step."""


def gradient_bits(batch_size: int) -> int:
    """Bits of |aᵀδ| (real) for a batch of `batch_size` rows: a sum of B products."""
    return A_BITS + DELTA_BITS + max(batch_size - 1, 0).bit_length()


def eps_bits(f: int, batch_size: int) -> int:
    """ε uniform in [−2^k, 2^k) at scale 2^2f, k = G + 2f + STAT_BITS."""
    return gradient_bits(batch_size) + 2 * f + STAT_BITS


def acc0_bits(f: int) -> int:
    """acc₀ uniform in [−2^k, 2^k) at scale 2^f, k = INIT_BITS + f + 1 + STAT_BITS."""
    return INIT_BITS + f + 1 + STAT_BITS


def rows_slot_error(
    key_bits: int, f: int, batch_size: int, capacity_bits: int | None = None
) -> str | None:
    """Why one slot of aᵀδ + ε (the widest) does not fit a `key_bits` plaintext, or None.
    `capacity_bits`: what the scheme's layouts may fill (he_scheme.py), key_bits if None."""
    width = eps_bits(f, batch_size) + 1 + GUARD_BITS + 1
    if width <= (key_bits if capacity_bits is None else capacity_bits) - 2:
        return None
    return (
        f"train.batch_size = {batch_size} with precision_bits = {f} needs {width}-bit "
        f"slots for the masked weight gradient, more than a {key_bits}-bit key holds; "
        "lower batch_size or precision_bits, or raise key_bits"
    )
