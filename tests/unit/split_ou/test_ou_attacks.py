"""Attacks on split learning under `he_scheme = "ou"`, each also run on a broken variant.

1. **Mask width (what F opens).** F decrypts x + e1 where x = a·W (packed, |x| < 2^b) and
   e1 = 2^b + U[0, 2^(b+41)) is what L's `OuEngine.hiding_masks` draws. F's best test
   between two worlds x0, x1 (the extremes of the range) is right with probability
   ½ + |x1 − x0|/2^(b+42) ≈ ½. With the mask only as wide as the value (the broken
   variant, no 41 statistical bits) F is right every time.
2. **Overflow (what L gets back).** A label holder that slips a plaintext ≥ p into F2
   would learn p from F's answer. The real feature holder opens through its bound and
   the job stops with a one-line error naming the message; a feature holder that returns
   the unchecked residue hands L the factorisation (the broken variant).
3. **Product randomness (what F reads in L's ciphertext).** L's product Π [[a_k]]^V[k]
   carries H^(Σ r_k·V[k]) and F knows its r_k. A feature holder that built q with smooth
   q − 1 takes discrete logs mod q (Pohlig–Hellman) and reads y = Σ r_k·V[k] + r_L. With
   L's owner-hiding r_L (bits(n) + 40 bits) y mod ord(H mod q) is uniform and V stays
   hidden; with no re-randomisation, or the short 256-bit r non-owners use, F reads V.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import gmpy2
import pytest
from gmpy2 import mpz

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_ou.keys import small_ou_key
from tests.unit.split_paillier.harness import run_job
from vfl.crypto import ou
from vfl.crypto.engine import Obfuscation, OsRandom
from vfl.crypto.ou_engine import OuEngine
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import CryptoError

TRIALS = 4000


def _best_rate(masks: list[int], low: int, span: int, b: int) -> float:
    """F's success rate telling x0 = −(2^b − 1) from x1 = 2^b − 1 by one opened value
    x + e, e uniform on [low, low + span): the optimal test names the world when only one
    could have produced the value, and guesses otherwise."""
    x = (-(1 << b) + 1, (1 << b) - 1)
    right = 0
    for m in masks:
        world = secrets.randbits(1)
        seen = x[world] + m
        if seen >= x[0] + low + span:
            guess = 1
        elif seen < x[1] + low:
            guess = 0
        else:
            guess = secrets.randbits(1)
        right += guess == world
    return right / len(masks)


B = 300


def test_f_cannot_tell_two_products_apart_through_the_statistical_mask() -> None:
    engine = OuEngine(ou.generate_ou_keypair(1536, allow_insecure=True).public, WorkerPool(1))
    masks = engine.hiding_masks(OsRandom(), TRIALS, B)
    assert min(masks) >= 1 << B and max(masks) < (1 << B) + (1 << (B + 41))
    rate = _best_rate(masks, 1 << B, 1 << (B + 41), B)
    assert abs(rate - 0.5) < 0.04, rate


def test_broken_variant_a_mask_only_as_wide_as_the_value_gives_x_away() -> None:
    narrow = [(1 << B) + secrets.randbits(B) for _ in range(TRIALS)]
    assert _best_rate(narrow, 1 << B, 1 << B, B) == 1.0


# -- 2. overflow --------------------------------------------------------------------------


def _overflowing_masks(engine: OuEngine, draws: object, count: int, packed_bits: int) -> list[int]:
    """A cheating L: F2's mask pushed past any p (2^(bits(n)))."""
    return [1 << int(engine.key.n.bit_length())] * count


def test_feature_holder_refuses_an_overflowing_product_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=64)
    train = {"protection": "paillier", "he_scheme": "ou", "key_bits": 3072, "workers": 1}
    spec = job_spec(job_dict(paths, train={**train, "epochs": 1}))
    monkeypatch.setattr(OuEngine, "hiding_masks", _overflowing_masks)
    with pytest.raises(Exception) as failure:
        run_job(spec, tmp_path / "run", small_ou_key)
    text = str(failure.value)
    assert "split_paillier.MaskedProduct" in text and "outside ±2^" in text, text
    assert "\n" not in text.strip()


def _overflow_answer(open_value: Callable[[list[mpz]], list[int]], keys: ou.OuKeyPair) -> int:
    """L's side: encrypt m ≥ p as F2's product, read F's answer, try gcd(m − answer, n)."""
    pub = keys.public
    m = secrets.randbits(pub.plaintext_bits + 60) | (1 << (pub.plaintext_bits + 59))
    ct = OuEngine(pub, WorkerPool(1), None, Obfuscation.OWNER_HIDING).encrypt([m], OsRandom())
    answer = open_value(ct)[0]
    return int(gmpy2.gcd(m - answer, pub.n))


def test_overflow_through_f_open_is_refused_and_the_unbounded_variant_leaks_p() -> None:
    keys = small_ou_key(0)
    f_engine = OuEngine.owner(keys, WorkerPool(1))
    bound = f_engine.masked_bound_bits(300)
    with pytest.raises(CryptoError, match="outside"):
        _overflow_answer(lambda cts: f_engine.open(cts, bound, "F2"), keys)
    broken = _overflow_answer(lambda cts: ou.decrypt(cts, keys.private), keys)
    assert broken == keys.private.p or broken % keys.private.p == 0


# -- 3. product randomness ----------------------------------------------------------------


def _smooth_prime(bits: int) -> tuple[mpz, list[int]]:
    """q = 2·Π ℓ_i + 1 prime with ~20-bit primes ℓ_i: discrete logs mod q are easy."""
    while True:
        factors = [2]
        value = mpz(2)
        while value.bit_length() < bits - 20:
            ell = int(gmpy2.next_prime(secrets.randbits(20) | (1 << 19)))
            factors.append(ell)
            value *= ell
        ell = int(gmpy2.next_prime(mpz(1) << (bits - value.bit_length())))
        factors.append(ell)
        q = value * ell + 1
        if gmpy2.is_prime(q, 40):
            return q, factors


def _malicious_key(bits: int = 1536) -> tuple[ou.OuKeyPair, list[int]]:
    """An OU key whose q − 1 is smooth (the key owner chooses its primes)."""
    honest = ou.generate_ou_keypair(bits, allow_insecure=True)
    p, t = honest.private.p, honest.private.t
    u = (p - 1) // t
    q, factors = _smooth_prime(int(honest.private.q.bit_length()))
    n, p2 = p * p * q, p * p
    while True:
        g = mpz(secrets.randbelow(int(n) - 2) + 2)
        gp = gmpy2.powmod(g % p2, p - 1, p2)
        if gmpy2.gcd(g, n) == 1 and gp != 1:
            break
    h0 = mpz(secrets.randbelow(int(n) - 2) + 2)
    public = ou.OuPublicKey(n, gmpy2.powmod(g, u, n), gmpy2.powmod(h0, n * u, n), bits)
    private = ou.OuPrivateKey(p, q, t, gmpy2.invert((gp - 1) // p, p))
    return ou.OuKeyPair(public, private), factors


def _dlog(target: mpz, base: mpz, q: mpz, factors: list[int]) -> tuple[int, int]:
    """log_base(target) mod ord(base) in Z_q* by Pohlig–Hellman over q − 1's factors."""
    order = q - 1
    residues, moduli = [], []
    for ell in sorted(set(factors)):
        e = factors.count(ell)
        pe = ell**e
        cofactor = order // pe
        b, tgt = gmpy2.powmod(base, cofactor, q), gmpy2.powmod(target, cofactor, q)
        step = int(gmpy2.isqrt(pe)) + 1
        table: dict[int, int] = {}
        cur = mpz(1)
        for j in range(step):
            table.setdefault(int(cur), j)
            cur = cur * b % q
        giant = gmpy2.powmod(gmpy2.invert(b, q), step, q)
        cur, found = tgt, None
        for i in range(step + 1):
            if int(cur) in table:
                found = i * step + table[int(cur)]
                break
            cur = cur * giant % q
        if found is None:
            raise AssertionError("not in the subgroup")
        b_order = _order(b, pe, ell, q)
        residues.append(found % b_order)
        moduli.append(b_order)
    x, m = 0, 1
    for r, mod in zip(residues, moduli, strict=True):  # CRT
        x = int(x + m * ((r - x) * int(gmpy2.invert(m, mod)) % mod)) if mod > 1 else x
        m *= mod
    return x % m, m


def _order(b: mpz, pe: int, ell: int, q: mpz) -> int:
    k = 1
    while gmpy2.powmod(b, k, q) != 1:
        k *= ell
    return k


def _recovered_v(obfuscation: Obfuscation | None) -> tuple[int, int]:
    """F2 with d = u = 1 as L computes it (linear, then add_plain with L's obfuscators;
    None: the broken variant without re-randomisation); F reads y = r1·V + r_L back from
    the ciphertext mod q and returns (V, y // r1)."""
    keys, factors = _malicious_key()
    pub, q = keys.public, keys.private.q
    f_engine = OuEngine.owner(keys, WorkerPool(1))
    r1 = secrets.randbits(ou.SHORT_RANDOMNESS_BITS) | (1 << (ou.SHORT_RANDOMNESS_BITS - 1))
    c1 = ou.encrypt_with([12345], [gmpy2.powmod(pub.h, r1, pub.n)], ou.g_table(pub), pub.n)
    v = secrets.randbits(80)
    l_engine = OuEngine(pub, WorkerPool(1), None, obfuscation or Obfuscation.OWNER_HIDING)
    product = l_engine.linear(c1, [[(0, v)]])
    e1 = 1 << 200
    if obfuscation is None:
        sent = [product[0] * gmpy2.powmod(pub.g, e1, pub.n) % pub.n]
    else:
        sent = l_engine.add_plain(product, [e1], OsRandom())
    x = f_engine.open(sent, f_engine.masked_bound_bits(200), "F2")[0]  # a·V + e1, exact
    h_part = sent[0] * gmpy2.invert(gmpy2.powmod(pub.g, x, pub.n), pub.n) % q
    y, order = _dlog(h_part, pub.h % q, q, factors)
    assert order.bit_length() > 340, "H mod q must have a large order for this test"
    return v, y // r1


def test_owner_hiding_randomness_keeps_v_from_a_key_owner_with_smooth_q() -> None:
    for _ in range(3):
        v, guess = _recovered_v(Obfuscation.OWNER_HIDING)
        assert abs(guess - v) > 2**40


def test_broken_variant_without_rerandomisation_gives_v_to_the_key_owner() -> None:
    v, guess = _recovered_v(None)
    assert guess == v


def test_broken_variant_short_randomness_gives_v_to_the_key_owner() -> None:
    """r_L of 256 bits (what non-owners use, Obfuscation.DJN): y // r1 is V to within 2."""
    v, guess = _recovered_v(Obfuscation.DJN)
    assert abs(guess - v) <= 2
