"""The per-chunk RSA work, run in worker processes (see psi/parallel.py).

Values travel as fixed-width big-endian rows of `key.size` bytes. The client's blinding
factors come from a stream derived from its party secret (psi/replay.py), indexed by the
ID's position, so a restarted client re-sends the same blinded values; the stream is
passed to this party's own worker processes only.
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2

from psi.rsa.keys import PrivateKey, PublicKey
from vfl.errors import CryptoError, ProtocolError
from vfl.runtime.party_secret import DerivedRandomness


def _ints(data: bytes, size: int) -> list[int]:
    return [int.from_bytes(data[i : i + size], "big") for i in range(0, len(data), size)]


def _bytes(values: Sequence[int], size: int) -> bytes:
    return b"".join(int(v).to_bytes(size, "big") for v in values)


def own_tags(ids: Sequence[str], key: PrivateKey) -> bytes:
    """Signer: tag(FDH(id)^d) for its own IDs."""
    pub = key.public
    return b"".join(pub.tag(key.sign(pub.fdh(i))) for i in ids)


def sign_blinded(data: bytes, key: PrivateKey) -> bytes:
    """Signer: sign a client's blinded values; a value outside Z_n is a protocol error."""
    n = key.public.n
    values = _ints(data, key.public.size)
    if any(not 0 < v < n for v in values):
        raise ProtocolError("rsa.Blinded: a value is not in 1..n-1")
    return _bytes([key.sign(v) for v in values], key.public.size)


def blind(
    ids: Sequence[str], pub: PublicKey, factors: DerivedRandomness, first: int
) -> tuple[bytes, bytes]:
    """Client: FDH(id)·r^e mod n, r = value `first + k` of `factors` for the k-th ID;
    returns them and r^-1 mod n."""
    n = gmpy2.mpz(pub.n)
    blinded, inverses = [], []
    for k, value in enumerate(ids):
        r = gmpy2.mpz(factors.below(first + k, pub.n - 2) + 2)
        inverses.append(gmpy2.invert(r, n))  # r shares no factor with n but with ~0 chance
        blinded.append(pub.fdh(value) * gmpy2.powmod(r, pub.e, n) % n)
    return _bytes(blinded, pub.size), _bytes(inverses, pub.size)


def unblind_tags(ids: Sequence[str], signed: bytes, inverses: bytes, pub: PublicKey) -> bytes:
    """Client: s = sig·r^-1, checked against FDH(id) (s^e), then tag(s)."""
    n = gmpy2.mpz(pub.n)
    tags = []
    for value, sig, r_inv in zip(
        ids, _ints(signed, pub.size), _ints(inverses, pub.size), strict=True
    ):
        s = sig * r_inv % n
        if gmpy2.powmod(s, pub.e, n) != pub.fdh(value):
            raise CryptoError("rsa.Signed: a signature does not verify; the signer is faulty")
        tags.append(pub.tag(int(s)))
    return b"".join(tags)


def blind_task(args: tuple[list[str], PublicKey, DerivedRandomness, int]) -> tuple[bytes, bytes]:
    return blind(*args)


def unblind_task(args: tuple[list[str], bytes, bytes, PublicKey]) -> bytes:
    return unblind_tags(*args)
