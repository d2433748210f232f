"""ristretto255 through the system libsodium: hash-to-group and scalar multiplication.

ristretto255 is a prime-order group, so hashing an ID with `crypto_core_ristretto255_
from_hash` (Elligator over SHA-512) is a proper hash-to-group. Hashing straight to an
X25519 u-coordinate would leak one bit per ID (curve or twist), so we do not.

The functions take and return whole chunks as concatenated 32-byte encodings, because they
run in worker processes and the per-call overhead must stay small next to a ~40 µs
multiplication. `pysodium` is the maintained binding that loads the system libsodium; its
per-call wrappers allocate for every point, so we call the same library handle directly
with one output buffer per chunk.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections.abc import Sequence

import pysodium

from vfl.errors import CryptoError, ProtocolError

POINT_BYTES = 32
SCALAR_BYTES = 32
DOMAIN = b"vfl.psi.ecdh.v1/hash-to-ristretto255\x00"

_lib = pysodium.sodium


def invert(scalar: bytes) -> bytes:
    inverse: bytes = pysodium.crypto_core_ristretto255_scalar_invert(scalar)
    return inverse


def hash_and_blind(ids: Sequence[str], scalar: bytes) -> bytes:
    """H(id)^scalar for every ID, concatenated, in order."""
    out = ctypes.create_string_buffer(POINT_BYTES * len(ids))
    point = ctypes.create_string_buffer(POINT_BYTES)
    sha512 = hashlib.sha512
    from_hash = _lib.crypto_core_ristretto255_from_hash
    mult = _lib.crypto_scalarmult_ristretto255
    for i, value in enumerate(ids):
        from_hash(point, sha512(DOMAIN + value.encode("utf-8")).digest())
        if mult(ctypes.byref(out, POINT_BYTES * i), scalar, point) != 0:
            raise CryptoError("ristretto255: an ID hashed to the identity; this cannot happen")
    return out.raw


def blind(points: bytes, scalar: bytes) -> bytes:
    """P^scalar for every 32-byte encoding in `points`; a peer's invalid point is an error."""
    count, rest = divmod(len(points), POINT_BYTES)
    if rest:
        raise ProtocolError(f"ristretto255: {len(points)} bytes is not a whole number of points")
    source = (ctypes.c_char * len(points)).from_buffer_copy(points)
    out = ctypes.create_string_buffer(len(points))
    mult = _lib.crypto_scalarmult_ristretto255
    bad = 0
    for i in range(count):
        offset = POINT_BYTES * i
        bad += mult(ctypes.byref(out, offset), scalar, ctypes.byref(source, offset)) != 0
    if bad:
        raise ProtocolError(
            f"ristretto255: {bad} of {count} received values are not valid group elements"
        )
    return out.raw
