"""Okamoto–Uchiyama keys and the overflow attack its decryption must refuse.

The attack (docs/paillier.md, "OU"): a peer that gets back the decryption of a ciphertext
whose plaintext exceeds p learns m mod p and hence p = gcd(m − (m mod p), n). It is
mounted on raw `decrypt` (the broken variant: the factor comes out) and on
`decrypt_bounded` (refused before anything leaves the key owner).
"""

from __future__ import annotations

import secrets

import gmpy2
import pytest

from vfl.crypto import ou
from vfl.crypto.ou_backend import OuBackend
from vfl.crypto.testing import insecure_ou_keypair
from vfl.errors import CryptoError

KEYS = insecure_ou_keypair(1024)


def test_key_has_the_accelerated_structure() -> None:
    pub, priv = KEYS.public, KEYS.private
    assert pub.n == priv.p * priv.p * priv.q
    assert priv.t.bit_length() == ou.subgroup_bits(1024)
    assert (priv.p - 1) % priv.t == 0
    assert priv.p.bit_length() > pub.plaintext_bits  # |m| < 2^(plaintext_bits−1) fits
    assert gmpy2.powmod(pub.h, priv.t, priv.p2) == 1  # H has order t mod p²
    pub.check("test key")


def test_production_sizes_are_refused_below_the_minimum() -> None:
    with pytest.raises(CryptoError, match=r"train\.key_bits: 1024 is below OU's minimum 2048"):
        ou.generate_ou_keypair(1024)


def test_a_forged_key_is_refused_in_one_line() -> None:
    pub = KEYS.public
    bad = ou.OuPublicKey(pub.n, pub.n + 1, pub.h, pub.key_bits)
    with pytest.raises(CryptoError, match="OU base G out of range"):
        bad.check("received OU key")


def _attack(decrypt: object) -> int | None:
    """The peer's side of the overflow attack: encrypt m > p, learn p from the answer."""
    pub = KEYS.public
    m = secrets.randbits(pub.plaintext_bits + 40) | (1 << (pub.plaintext_bits + 39))
    r = OuBackend(KEYS).obfuscators([secrets.randbits(ou.SHORT_RANDOMNESS_BITS)])[0]
    ct = [gmpy2.powmod(pub.g, m, pub.n) * r % pub.n]  # the attacker's own encryption
    answer = decrypt(ct)  # type: ignore[operator]
    factor = gmpy2.gcd(m - answer[0], KEYS.public.n)
    return int(factor) if 1 < factor < KEYS.public.n else None


def test_overflow_attack_recovers_p_from_an_unchecked_decryption() -> None:
    """The broken variant: a key owner that returns raw decryptions hands out p."""
    factor = _attack(lambda cts: ou.decrypt(cts, KEYS.private))
    assert factor is not None and KEYS.public.n % factor == 0


def test_bounded_decryption_refuses_the_overflow() -> None:
    bound = KEYS.public.plaintext_bits - 42
    with pytest.raises(CryptoError, match=r"value 0 decrypts outside ±2\^"):
        _attack(lambda cts: ou.decrypt_bounded(cts, KEYS.private, bound, "F2 result"))


def test_bounded_decryption_passes_values_inside_the_bound() -> None:
    be = OuBackend(KEYS)
    values = [secrets.randbits(60) - (1 << 59) for _ in range(8)]
    cts = be.encrypt(values, be.obfuscators([secrets.randbits(256) for _ in values]))
    assert be.decrypt_bounded(cts, 60, "test") == values


def test_owner_facing_randomness_covers_the_order_of_h() -> None:
    """ord(H) < n, so r of bits(n) + 40 bits is within 2^-40 of uniform mod ord(H)."""
    pub = KEYS.public
    assert pub.owner_randomness_bits == pub.n.bit_length() + ou.STATISTICAL_BITS
    be = OuBackend(KEYS, pub.owner_randomness_bits)
    r = secrets.randbits(be.randomness_bits)
    assert be.obfuscators([r]) == [gmpy2.powmod(pub.h, r, pub.n)]


def test_encryption_refuses_a_plaintext_beyond_the_space() -> None:
    be = OuBackend(KEYS)
    with pytest.raises(CryptoError, match="outside the key's plaintext space"):
        be.encrypt([1 << (KEYS.public.plaintext_bits + 8)], be.obfuscators([1]))
