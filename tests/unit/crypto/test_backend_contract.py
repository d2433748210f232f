"""One contract for every homomorphic backend, with python-paillier as the reference.

Each operation runs on the backend and, on the same plaintexts, on phe's own ciphertexts
(under our test key); both decryptions must agree with each other and with integer
arithmetic. The HEU backends are skipped, with the reason, only when sf-heu is missing.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import pytest
from phe import paillier

from vfl.crypto import heu_native
from vfl.crypto.backend import Gmpy2Backend, HeBackend, HeuBackend
from vfl.crypto.ou_backend import OuBackend
from vfl.crypto.testing import insecure_keypair, insecure_ou_keypair

KEYS = insecure_keypair(512)
PUB = paillier.PaillierPublicKey(int(KEYS.public.n))
PRIV = paillier.PaillierPrivateKey(PUB, int(KEYS.private.p), int(KEYS.private.q))
NO_HEU = pytest.mark.skipif(heu_native.UNAVAILABLE is not None, reason=str(heu_native.UNAVAILABLE))
VALUE_BITS = 100
"""Inputs and results stay below 2^100: inside every backend's plaintext space here
(OU at 1024 bits holds ~340 signed bits)."""


def _make(name: str) -> HeBackend[Any]:
    if name == "gmpy2":
        return Gmpy2Backend(KEYS)
    if name == "heu-zpaillier":
        return HeuBackend.zpaillier(KEYS)
    if name == "gmpy2-ou":
        return OuBackend(insecure_ou_keypair(1024))
    return HeuBackend.ou(1024)


@pytest.fixture(
    scope="module",
    params=[
        "gmpy2",
        "gmpy2-ou",
        pytest.param("heu-zpaillier", marks=NO_HEU),
        pytest.param("heu-ou", marks=NO_HEU),
    ],
)
def backend(request: pytest.FixtureRequest) -> HeBackend[Any]:
    return _make(str(request.param))


def _rand(be: HeBackend[Any], count: int) -> list[int]:
    return [secrets.randbits(be.randomness_bits) for _ in range(count)]


def _enc(be: HeBackend[Any], values: Sequence[int]) -> list[Any]:
    return be.encrypt(values, be.obfuscators(_rand(be, len(values))))


def _values(count: int, bits: int = 40) -> list[int]:
    return [secrets.randbits(bits) - (1 << (bits - 1)) for _ in range(count)]


def _phe(values: Sequence[int]) -> list[paillier.EncryptedNumber]:
    return [PUB.encrypt(v) for v in values]


def _phe_dec(cts: Sequence[paillier.EncryptedNumber]) -> list[int]:
    return [int(PRIV.decrypt(c)) for c in cts]


def test_round_trip_at_the_edges_of_the_plaintext_space(backend: HeBackend[Any]) -> None:
    top = (1 << (backend.plaintext_bits - 1)) - 1
    values = [0, 1, -1, top, -top, *_values(5, VALUE_BITS)]
    assert backend.decrypt(_enc(backend, values)) == values


def test_same_randomness_gives_byte_identical_ciphertexts(backend: HeBackend[Any]) -> None:
    """Replay determinism: the obfuscators are a function of the caller's randomness only."""
    values, rand = _values(4), _rand(backend, 4)
    first = backend.to_ints(backend.encrypt(values, backend.obfuscators(rand)))
    again = backend.to_ints(backend.encrypt(values, backend.obfuscators(rand)))
    other = backend.to_ints(backend.encrypt(values, backend.obfuscators(_rand(backend, 4))))
    assert first == again
    assert all(a != b for a, b in zip(first, other, strict=True))


def test_add_and_add_plain_match_phe(backend: HeBackend[Any]) -> None:
    x, y, m = _values(6), _values(6), _values(6)
    cx, cy = _enc(backend, x), _enc(backend, y)
    px, py = _phe(x), _phe(y)
    summed = _phe_dec([a + b for a, b in zip(px, py, strict=True)])
    assert backend.decrypt(backend.add(cx, cy)) == summed
    got = backend.decrypt(backend.add_plain(cx, m, backend.obfuscators(_rand(backend, 6))))
    shifted = _phe_dec([a + k for a, k in zip(px, m, strict=True)])
    assert got == shifted == [a + k for a, k in zip(x, m, strict=True)]


def test_rerandomize_changes_the_ciphertext_not_the_plaintext(backend: HeBackend[Any]) -> None:
    x = _values(4)
    cts = _enc(backend, x)
    fresh = backend.rerandomize(cts, backend.obfuscators(_rand(backend, 4)))
    assert backend.decrypt(fresh) == x
    assert all(a != b for a, b in zip(backend.to_ints(cts), backend.to_ints(fresh), strict=True))


@pytest.mark.parametrize("scalar_bits", [16, 63, 64, 90])
def test_linear_matches_phe_for_narrow_and_wide_scalars(
    backend: HeBackend[Any], scalar_bits: int
) -> None:
    """16–64-bit fixed-point scalars, and ~90 bits as F2's V = W − acc can reach."""
    x = _values(5, 8)
    terms = [[(i, e) for i, e in enumerate(_values(5, scalar_bits))] for _ in range(3)]
    px = _phe(x)
    expected = []
    for o in terms:
        acc = px[o[0][0]] * o[0][1]
        for i, e in o[1:]:
            acc = acc + px[i] * e
        expected.append(acc)
    got = backend.decrypt(backend.linear(_enc(backend, x), terms))
    assert got == _phe_dec(expected) == [sum(x[i] * e for i, e in o) for o in terms]


def test_pack_shifted_puts_values_side_by_side(backend: HeBackend[Any]) -> None:
    x, shift = _values(5, 20), 60
    packed = backend.decrypt(backend.pack_shifted(_enc(backend, x), 3, shift))
    assert packed == [sum(v << (j * shift) for j, v in enumerate(g)) for g in (x[:3], x[3:])]


def test_integers_round_trip_through_the_wire_form(backend: HeBackend[Any]) -> None:
    x = _values(3)
    ints = backend.to_ints(_enc(backend, x))
    assert backend.decrypt(backend.from_ints(ints)) == x
    assert backend.to_ints(backend.from_ints(ints)) == ints


@pytest.mark.parametrize("name", ["gmpy2", pytest.param("heu-zpaillier", marks=NO_HEU)])
def test_paillier_backends_share_ciphertexts_with_phe(name: str) -> None:
    """Same key, same scheme: the canonical integers are phe's ciphertexts, both ways."""
    be = _make(name)
    x = _values(3)
    ours = be.to_ints(_enc(be, x))
    assert _phe_dec([paillier.EncryptedNumber(PUB, c) for c in ours]) == x
    theirs = [c.ciphertext(be_secure=True) for c in _phe(x)]
    assert be.decrypt(be.from_ints(theirs)) == x


@NO_HEU
def test_heu_integers_are_canonical_residues() -> None:
    """to_int leaves HEU's Montgomery form: HEU's add is the product of the residues."""
    for scheme in (
        heu_native.zpaillier_from_keys(
            int(KEYS.public.n), int(KEYS.public.hs), int(KEYS.private.p), int(KEYS.private.q)
        ),
        heu_native.HeuScheme.generate("OU", 1024),
    ):
        a, b = scheme.encrypt(3), scheme.encrypt(-5)
        product = scheme.to_int(a) * scheme.to_int(b) % scheme.modulus
        assert scheme.to_int(scheme.add(a, b)) == product
        assert scheme.decrypt(scheme.from_int(product)) == -2
