"""The vectorised engine against python-paillier and plain integer arithmetic."""

from __future__ import annotations

import secrets

import gmpy2
import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st
from phe import paillier

from vfl.crypto import kernels
from vfl.crypto.engine import OsRandom, PaillierEngine
from vfl.crypto.keys import PublicKey, generate_keypair
from vfl.crypto.packing import SlotLayout
from vfl.crypto.testing import insecure_keypair
from vfl.crypto.wire import from_wire, plain_from_bytes, plain_to_bytes, to_wire
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import CryptoError, ProtocolError

KEYS = insecure_keypair(512)
ENGINE = PaillierEngine.owner(KEYS, WorkerPool(1))
N = int(KEYS.public.n)


def _centred(m: int) -> int:
    m %= N
    return m - N if m > N // 2 else m


@given(st.lists(st.integers(-(1 << 200), 1 << 200), min_size=1, max_size=8))
@settings(max_examples=25, deadline=None)
def test_encrypt_decrypt_round_trip(values: list[int]) -> None:
    assert [_centred(int(m)) for m in ENGINE.decrypt(ENGINE.encrypt(values))] == values


def test_python_paillier_decrypts_our_ciphertexts_and_we_decrypt_its() -> None:
    pub = paillier.PaillierPublicKey(N)
    priv = paillier.PaillierPrivateKey(pub, int(KEYS.private.p), int(KEYS.private.q))
    ours = ENGINE.encrypt([123456])[0]
    assert priv.raw_decrypt(int(ours)) == 123456
    theirs = pub.raw_encrypt(987654)
    assert int(ENGINE.decrypt([mpz(theirs)])[0]) == 987654


def test_classic_crt_obfuscator_is_an_encryption_of_zero() -> None:
    (r,) = kernels.classic_obfuscators_crt(1, KEYS.private.p, KEYS.private.q)
    assert int(ENGINE.decrypt([r])[0]) == 0
    assert (int(r) - 1) % N != 0


@given(
    st.lists(st.integers(-(1 << 60), 1 << 60), min_size=1, max_size=6),
    st.lists(
        st.lists(st.integers(-(1 << 20), 1 << 20), min_size=6, max_size=6), min_size=1, max_size=4
    ),
)
@settings(max_examples=20, deadline=None)
def test_linear_combinations_match_plain_arithmetic(xs: list[int], rows: list[list[int]]) -> None:
    cts = ENGINE.encrypt(xs)
    terms = [[(i, row[i]) for i in range(len(xs))] for row in rows]
    got = [_centred(int(m)) for m in ENGINE.decrypt(ENGINE.linear(cts, terms))]
    assert got == [sum(e * xs[i] for i, e in t) for t in terms]


def test_add_plain_rerandomises_and_adds() -> None:
    (c,) = ENGINE.encrypt([41])
    (d,) = ENGINE.add_plain([c], [1])
    (e,) = ENGINE.rerandomize([c])
    assert c != e and int(ENGINE.decrypt([d])[0]) == 42 and int(ENGINE.decrypt([e])[0]) == 41


def test_two_encryptions_of_the_same_value_differ_and_are_not_trivial() -> None:
    a, b = ENGINE.encrypt([7, 7])
    assert a != b
    assert (int(a) - 1) % N != 0 and (int(b) - 1) % N != 0


def test_public_only_engine_cannot_decrypt() -> None:
    public = PaillierEngine(KEYS.public, WorkerPool(1))
    with pytest.raises(CryptoError):
        public.decrypt(public.encrypt([1]))


def test_process_pool_gives_the_same_results() -> None:
    pool = WorkerPool(2)
    try:
        engine = PaillierEngine.owner(KEYS, pool)
        engine.prefill(OsRandom(), 3)
        xs = [secrets.randbelow(1 << 40) for _ in range(5)]
        cts = engine.encrypt(xs)
        assert [int(m) for m in engine.decrypt(cts)] == xs
        terms = [[(0, 3), (4, -2)], [(1, 1)]]
        assert [_centred(int(m)) for m in engine.decrypt(engine.linear(cts, terms))] == [
            3 * xs[0] - 2 * xs[4],
            xs[1],
        ]
    finally:
        pool.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_pack_shifted_puts_runs_of_values_side_by_side(workers: int) -> None:
    """Runs of 3 (the last one short): [[x_0 + x_1·2^s + x_2·2^2s]], signed values too."""
    pool = WorkerPool(workers)
    try:
        engine = PaillierEngine.owner(KEYS, pool)
        xs = [5, -7, 1 << 30, 0, -(1 << 20)]
        packed = engine.pack_shifted(engine.encrypt(xs), 3, 80)
        assert [_centred(int(m)) for m in engine.decrypt(packed)] == [
            xs[0] + (xs[1] << 80) + (xs[2] << 160),
            xs[3] + (xs[4] << 80),
        ]
    finally:
        pool.close()


def test_wire_round_trip_and_checks() -> None:
    layout = SlotLayout.for_key(512, 40)
    cts = ENGINE.encrypt([1, 2, 3])
    t = to_wire(KEYS.public, cts, (3,), "batch", layout, 16)
    assert len(t.ciphertexts) == 3 * KEYS.public.width
    assert from_wire(KEYS.public, t, 3, "batch", layout, "w") == cts
    with pytest.raises(ProtocolError, match="expected 4"):
        from_wire(KEYS.public, t, 4, "batch", layout, "w")
    other = insecure_keypair(520).public
    with pytest.raises(ProtocolError, match="another key"):
        from_wire(other, t, 3, "batch", layout, "w")
    assert plain_from_bytes(KEYS.public, plain_to_bytes(KEYS.public, [-1, 5]), 2, "p") == [N - 1, 5]


def test_public_key_parsing_rejects_nonsense() -> None:
    with pytest.raises(CryptoError):
        PublicKey.from_bytes((7919).to_bytes(2, "big"), b"\x02", "hello")


def test_production_keys_refuse_small_moduli() -> None:
    with pytest.raises(CryptoError, match="2048"):
        generate_keypair(1024)


def test_key_owner_crt_obfuscators_equal_the_public_comb() -> None:
    """Same α → the same hs^α mod n², whether computed mod n² or mod p² and q²."""
    alphas = [secrets.randbits(KEYS.public.alpha_bits) for _ in range(4)]
    k, sk = KEYS.public, KEYS.private
    seen = kernels.djn_chunk_crt(sk.p, sk.q, k.hs, k.alpha_bits, alphas)
    expected = [gmpy2.powmod(k.hs, a, k.n2) for a in alphas]
    assert seen == expected
    assert kernels.djn_chunk(k.n2, k.hs, k.alpha_bits, alphas) == expected
    assert [int(m) for m in ENGINE.decrypt(seen)] == [0, 0, 0, 0]
