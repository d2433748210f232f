"""The key owner's attack on the label holder's re-randomised products, mounted.

F owns the key, so from any ciphertext it reads the randomness ρ = (c mod n)^(n⁻¹ mod λ).
It encrypts under ρ_k that are non-residues mod p; L returns [[Σ V_k·x_k]] re-randomised,
whose randomness is Π ρ_k^V_k · R. The quadratic character of that mod p is
(−1)^(Σ V_k) · (R | p): unless R's character is uniform, F reads the parity of Σ V_k,
a bit of L's secret per ciphertext. `OWNER_HIDING` (84 secret bases, owner_hiding.py) must
leave F at a coin flip; bases that are all squares, or one base that is a square, must
let it win every time (the controls that show the attack works).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import gmpy2
import pytest
from gmpy2 import mpz

from vfl.crypto import owner_hiding
from vfl.crypto.engine import Obfuscation, OsRandom, PaillierEngine
from vfl.crypto.testing import insecure_keypair
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import CryptoError

KEYS = insecure_keypair(512)
P, Q, N = KEYS.private.p, KEYS.private.q, KEYS.public.n
N2 = N * N
LAMBDA = gmpy2.lcm(P - 1, Q - 1)
TRIALS = 64
TERMS = 6


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def _randomness(c: mpz) -> mpz:
    """What the key owner reads: ρ with c = (1 + n)^m·ρ^n mod n²."""
    return gmpy2.powmod(c % N, gmpy2.invert(N, LAMBDA), N)


def _non_residue_mod_p() -> mpz:
    while True:
        rho = mpz(secrets.randbelow(int(N) - 2) + 2)
        if gmpy2.legendre(rho, P) == -1:
            return rho


def _parity_guesses(engine: PaillierEngine) -> int:
    """How often F's guess of parity(Σ V_k) from L's re-randomised product is right."""
    right = 0
    for _ in range(TRIALS):
        xs = [secrets.randbits(16) for _ in range(TERMS)]
        cts = [(1 + N * x) * gmpy2.powmod(_non_residue_mod_p(), N, N2) % N2 for x in xs]
        v = [secrets.randbits(20) + 1 for _ in range(TERMS)]
        (product,) = engine.linear(cts, [list(enumerate(v))])
        (sent,) = engine.rerandomize([product], OsRandom())
        guess = gmpy2.legendre(_randomness(sent), P) == -1
        right += guess == (sum(v) % 2 == 1)
    return right


def test_owner_hiding_leaves_the_key_owner_at_a_coin_flip(pool: WorkerPool) -> None:
    engine = PaillierEngine(KEYS.public, pool, None, Obfuscation.OWNER_HIDING, OsRandom())
    right = _parity_guesses(engine)
    assert 12 <= right <= TRIALS - 12  # Bin(64, ½) leaves this range with probability ~1e-7


def _square_bases(draws: list[int], n: mpz) -> list[mpz]:
    return [gmpy2.powmod(mpz(d) % n * (mpz(d) % n), n, n * n) for d in draws]


@pytest.mark.parametrize("bases", [owner_hiding.BASES, 1])
def test_control_bases_that_are_squares_give_the_parity_away(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch, bases: int
) -> None:
    monkeypatch.setattr(owner_hiding, "make_bases", _square_bases)
    monkeypatch.setattr(owner_hiding, "BASES", bases)
    engine = PaillierEngine(KEYS.public, pool, None, Obfuscation.OWNER_HIDING, OsRandom())
    assert _parity_guesses(engine) == TRIALS


def test_control_no_rerandomisation_gives_the_parity_away(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = PaillierEngine(KEYS.public, pool, None, Obfuscation.OWNER_HIDING, OsRandom())
    monkeypatch.setattr(engine, "rerandomize", lambda cts, source=None: list(cts))
    assert _parity_guesses(engine) == TRIALS


def test_obfuscators_are_encryptions_of_zero_and_replayable(pool: WorkerPool) -> None:
    class Fixed:
        label = "fixed"

        def bits(self, index: int, bits: int) -> int:
            return (index * 0x9E3779B97F4A7C15 + 12345) % (1 << bits)

    one = PaillierEngine(KEYS.public, pool, None, Obfuscation.OWNER_HIDING, Fixed())
    two = PaillierEngine(KEYS.public, pool, None, Obfuscation.OWNER_HIDING, Fixed())
    a = one.rerandomize([mpz(1 + N * 5)], Fixed())
    b = two.rerandomize([mpz(1 + N * 5)], Fixed())
    assert a == b
    owner = PaillierEngine.owner(KEYS, pool)
    assert [int(m) for m in owner.decrypt(a)] == [5]


def test_an_owner_hiding_engine_without_bases_is_refused(pool: WorkerPool) -> None:
    with pytest.raises(CryptoError, match="needs its party's stream of bases"):
        PaillierEngine(KEYS.public, pool, None, Obfuscation.OWNER_HIDING)


def test_the_written_bound_holds_for_the_key_sizes_we_accept() -> None:
    for key_bits in (512, 2048, 3072, 4096):
        w = owner_hiding.exponent_bits(key_bits)
        assert owner_hiding.BASES * w - key_bits >= 84  # exponent-range term ≤ 2^-84
    assert 3 - owner_hiding.BASES <= -81  # 2-torsion term ≤ 2^-81
    assert owner_hiding.exponent_bits(2048) == 26
