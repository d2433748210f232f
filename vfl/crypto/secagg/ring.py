"""Masks and fixed-point values in the ring Z/2^64, where masked sums wrap exactly.

A party's update (clipped to ±`bound` per coordinate) is scaled by 2^`fraction_bits`,
rounded and taken mod 2^64. The sum of n such values is exact as long as
n · bound · 2^f < 2^63 (`check_capacity`), after which decoding reads the two's-complement
sum back. Masks are uniform 64-bit words from ChaCha20 keyed by a 32-byte seed: a masked
value x + m mod 2^64 with m uniform is itself uniform, whatever x is (one-time pad in the
ring), which is what hides a single update from the aggregator. `expand` also draws words of
16 or 32 bits for the narrower rings of secure int8 sums (`level_ring.py`): the same
keystream bytes read as shorter words are just as uniform, in Z/2^16 or Z/2^32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from vfl.errors import ConfigError

Words = npt.NDArray[np.uint64]
AnyWords = npt.NDArray[np.unsignedinteger[Any]]
"""Words of any of the rings masks live in: uint16, uint32 or uint64."""
NONCE = b"\x00" * 16


def expand(
    seed: bytes, size: int, purpose: bytes, dtype: type[np.unsignedinteger[Any]] = np.uint64
) -> AnyWords:
    """`size` uniform words of `dtype` (Z/2^16, 2^32 or 2^64) from a 32-byte seed;
    `purpose` (≤ 16 bytes) separates streams drawn from one seed (e.g. per round)."""
    nonce = purpose.ljust(16, b"\x00")[:16]
    cipher = Cipher(algorithms.ChaCha20(seed, nonce), mode=None).encryptor()
    width = np.dtype(dtype).itemsize
    stream = cipher.update(b"\x00" * (width * size))
    return np.frombuffer(stream, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)


def encode(values: npt.NDArray[np.float64], fraction_bits: int) -> Words:
    scaled = np.rint(values * float(1 << fraction_bits)).astype(np.int64)
    return scaled.view(np.uint64)


def decode(words: Words, fraction_bits: int) -> npt.NDArray[np.float64]:
    return words.view(np.int64).astype(np.float64) / float(1 << fraction_bits)


def check_capacity(parties: int, bound: float, fraction_bits: int) -> None:
    """Refuse a setting whose sum could wrap: n · bound · 2^f must stay below 2^62 (one bit
    of headroom for rounding)."""
    if parties * bound * 2.0**fraction_bits >= 2.0**62:
        raise ConfigError(
            f"secure aggregation of {parties} parties with |update| ≤ {bound} at "
            f"{fraction_bits} fraction bits could wrap 64 bits; lower the clip bound"
        )
