"""X25519 with an Elligator 2 hash: the commutative blinding of ECDH-PSI.

An ID is hashed to a point of Curve25519 by Elligator 2 (RFC 9380 §6.7.1, Z = 2, on a
field element from SHA-512 of a domain tag and the ID), and blinded by X25519 (OpenSSL,
through `cryptography`). X25519 clamps every scalar to 2^254 + 8·k′, so [k]P kills the
cofactor-8 component of the hashed point: blinded values live in the prime-order subgroup
(order ℓ ≈ 2^252), where blinding commutes — X25519(b, X25519(a, H(x))) =
X25519(a, X25519(b, H(x))) — and DDH gives pseudo-random values to anyone without the
keys. Values are u-coordinates, so P and −P coincide: two IDs collide only if their
hashes do up to sign (~2^-250 per pair). Hashing straight to a u-coordinate would put half
the IDs on the twist and leak one bit each; Elligator 2 always lands on the curve.

Why not ristretto255 (libsodium), as before: OpenSSL's X25519 is 1.5–1.7× faster per
operation here than libsodium 1.0.18's ristretto255 scalar multiplication, and the hash
is 11 µs in gmpy2 (docs/architecture.md, "Private set intersection").

A peer's values are checked before use: canonical (u < p, top bit clear), on the curve
(u³ + A·u² + u a square: twist points are refused), not of small order (X25519 gives zero).

The functions take and return whole chunks as concatenated 32-byte encodings, because they
run in worker processes and the per-call overhead must stay small.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import gmpy2
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from gmpy2 import mpz

from vfl.errors import CryptoError, ProtocolError

POINT_BYTES = 32
SCALAR_BYTES = 32
DOMAIN = b"vfl.psi.ecdh.v2/elligator2-x25519\x00"

_P = mpz(2**255 - 19)
_A = mpz(486662)
ORDER = 2**252 + 27742317777372353535851937790883648493
"""ℓ, the prime order of the subgroup blinded values live in."""


def clamp(scalar: bytes) -> int:
    """The integer X25519 multiplies by for a 32-byte private key (RFC 7748 §5)."""
    k = bytearray(scalar)
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    return int.from_bytes(k, "little")


def invert(scalar: bytes) -> bytes | None:
    """A key j with clamp(j)·clamp(scalar) ≡ 1 mod ℓ, so X25519(j, ·) undoes X25519(scalar,
    ·) on blinded values; None when no clamped integer is ≡ that inverse (about half of
    the scalars: callers draw another)."""
    target = pow(clamp(scalar), -1, ORDER)
    low, high = 1 << 254, 1 << 255
    s = -(-(low - target) // ORDER)
    while target + s * ORDER < high:
        value = target + s * ORDER
        if value % 8 == 0:
            return value.to_bytes(SCALAR_BYTES, "little")
        s += 1
    return None


def hash_to_curve(value: str) -> bytes:
    """Elligator 2: the u-coordinate of a curve point for `value`, little-endian."""
    digest = hashlib.sha512(DOMAIN + value.encode("utf-8")).digest()
    r = mpz(int.from_bytes(digest, "little")) % _P
    den = (1 + 2 * r * r) % _P
    u = (-_A * gmpy2.invert(den, _P)) % _P if den else mpz(0)
    if gmpy2.legendre(_rhs(u), _P) == -1:
        u = (-u - _A) % _P
    return int(u).to_bytes(POINT_BYTES, "little")


def _rhs(u: mpz) -> mpz:
    return (u * (u * (u + _A) + 1)) % _P


def on_curve(point: bytes) -> bool:
    """Canonical and on Curve25519 (not its twist)."""
    if point[31] & 128:
        return False
    u = mpz(int.from_bytes(point, "little"))
    return bool(u < _P and gmpy2.legendre(_rhs(u), _P) != -1)


def _mult(key: X25519PrivateKey, point: bytes) -> bytes | None:
    try:
        return key.exchange(X25519PublicKey.from_public_bytes(point))
    except ValueError:  # small-order input: the shared value would be zero
        return None


def hash_and_blind(ids: Sequence[str], scalar: bytes) -> bytes:
    """H(id)^scalar for every ID, concatenated, in order."""
    key = X25519PrivateKey.from_private_bytes(scalar)
    out = bytearray()
    for value in ids:
        blinded = _mult(key, hash_to_curve(value))
        if blinded is None:
            raise CryptoError("x25519: an ID hashed to a small-order point; this cannot happen")
        out += blinded
    return bytes(out)


def blind(points: bytes, scalar: bytes) -> bytes:
    """P^scalar for every 32-byte encoding in `points`; a peer's invalid point is an error."""
    count, rest = divmod(len(points), POINT_BYTES)
    if rest:
        raise ProtocolError(f"x25519: {len(points)} bytes is not a whole number of points")
    key = X25519PrivateKey.from_private_bytes(scalar)
    out = bytearray()
    bad = 0
    for i in range(count):
        point = points[POINT_BYTES * i : POINT_BYTES * (i + 1)]
        blinded = _mult(key, point) if on_curve(point) else None
        if blinded is None:
            bad += 1
            blinded = bytes(POINT_BYTES)
        out += blinded
    if bad:
        raise ProtocolError(
            f"x25519: {bad} of {count} received values are not points of the curve's "
            "prime-order subgroup"
        )
    return bytes(out)
