"""Fixed-point encoding with one shared exponent: x ↦ round(x·2^f) as an integer.

One exponent for every value means homomorphic sums never rescale (python-paillier's
per-value exponents make each addition a multiplication by a power of the base). A product
of two encoded values carries 2f fractional bits; decode with `frac_bits=2f`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vfl.errors import CryptoError


def encode(
    values: NDArray[np.floating], frac_bits: int, bound_bits: int, what: str
) -> NDArray[np.int64]:
    """round(values·2^frac_bits) as int64; every |value| must be below 2^bound_bits.

    The bound is what the packing layouts were sized for: exceeding it would overflow a
    slot later, so it fails here, loudly, instead.
    """
    x = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise CryptoError(f"{what}: non-finite value cannot be encoded; check the learning rate")
    limit = float(2**bound_bits)
    worst = float(np.max(np.abs(x))) if x.size else 0.0
    if worst >= limit:
        raise CryptoError(
            f"{what}: magnitude {worst:.3g} exceeds the fixed-point range 2^{bound_bits}; "
            f"standardize the features or lower the learning rate"
        )
    if bound_bits + frac_bits > 62:
        raise CryptoError(f"{what}: {bound_bits}+{frac_bits} bits do not fit in 63-bit integers")
    return np.rint(x * float(2**frac_bits)).astype(np.int64)


def decode(ints: NDArray[np.int64] | list[int], frac_bits: int) -> NDArray[np.float64]:
    """Integers at scale 2^frac_bits back to floats (exact below 2^53)."""
    return np.asarray([float(v) for v in np.asarray(ints, dtype=object).ravel()]).reshape(
        np.shape(ints)
    ) / float(2**frac_bits)
