"""Pure integer kernels of the Paillier hot paths, importable by worker processes.

Everything here works on plain integers (gmpy2 `mpz`), takes the modulus explicitly and
holds no key object, so a process pool can run it on chunks: gmpy2 holds the GIL, so
threads would not use the second core. Nothing in this module is ever fed peer bytes
that were not first parsed into integers and range-checked by the caller.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz

WINDOW = 4
"""Bits per window of the multi-exponentiation tables (15 entries per base)."""
COMB_WINDOW = 8
"""Bits per window of the fixed-base comb for obfuscators (255 entries per window)."""
CRT_COMB_WINDOW = 10
"""The key owner's combs mod p² and q²: 103 products instead of 128 per 1024-bit α for
2 × 27 MB of tables instead of 2 × 8 MB at 2048 bits (measured: −10 % per own encryption,
0.76 instead of 0.84 ms median on the shared 2-core box, 2026-11-30)."""


def encrypt_with(plaintexts: Sequence[int], obfuscators: Sequence[mpz], n: mpz) -> list[mpz]:
    """[[m]] = (1 + n·m)·r^n mod n²: one multiplication once the obfuscator exists."""
    n2 = n * n
    return [((1 + n * (mpz(m) % n)) * r) % n2 for m, r in zip(plaintexts, obfuscators, strict=True)]


def add_plain(
    cts: Sequence[mpz], plaintexts: Sequence[int], obfuscators: Sequence[mpz], n: mpz
) -> list[mpz]:
    """[[x + m]] re-randomised: multiply by a fresh encryption of m."""
    n2 = n * n
    return [
        (c * (1 + n * (mpz(m) % n)) % n2) * r % n2
        for c, m, r in zip(cts, plaintexts, obfuscators, strict=True)
    ]


def decrypt_crt(cts: Sequence[mpz], p: mpz, q: mpz) -> list[mpz]:
    """Paillier decryption with g = n + 1, by CRT over p² and q² (half-size powmods)."""
    n = p * q
    p2, q2 = p * p, q * q
    hp = gmpy2.invert((gmpy2.powmod(n + 1, p - 1, p2) - 1) // p, p)
    hq = gmpy2.invert((gmpy2.powmod(n + 1, q - 1, q2) - 1) // q, q)
    q_inv = gmpy2.invert(q, p)
    out = []
    for c in cts:
        mp = (gmpy2.powmod(c % p2, p - 1, p2) - 1) // p * hp % p
        mq = (gmpy2.powmod(c % q2, q - 1, q2) - 1) // q * hq % q
        out.append(mq + ((mp - mq) * q_inv % p) * q)
    return out


def classic_obfuscators_crt(count: int, p: mpz, q: mpz) -> list[mpz]:
    """r^n mod n² for uniform r, by the key owner with CRT: the textbook obfuscator."""
    n = p * q
    p2, q2 = p * p, q * q
    ep, eq = n % (p * (p - 1)), n % (q * (q - 1))
    q2_inv = gmpy2.invert(q2, p2)
    out = []
    for _ in range(count):
        r = mpz(secrets.randbelow(int(n) - 1) + 1)
        xp, xq = gmpy2.powmod(r, ep, p2), gmpy2.powmod(r, eq, q2)
        out.append(xq + ((xp - xq) * q2_inv % p2) * q2)
    return out


def classic_chunk(n: mpz, rs: list[int]) -> list[mpz]:
    """r^n mod n² for each r: a full-length exponent, by anyone holding the public key.

    r = 0 (or any r sharing a factor with n) has probability ~2^-1023 for a uniform r and
    would reveal a factor of n to whoever drew it, so it is replaced by 1 rather than
    failing a job on an event that does not happen.
    """
    n2 = n * n
    return [gmpy2.powmod(mpz(r) if gmpy2.gcd(r, n) == 1 else mpz(1), n, n2) for r in rs]


def comb_table(
    base: mpz, exponent_bits: int, n2: mpz, window: int = COMB_WINDOW
) -> list[list[mpz]]:
    """table[w][k] = base^(k·2^(window·w)) for every window w: fixed-base exponentiation."""
    table = []
    b = base
    for _ in range((exponent_bits + window - 1) // window):
        row = [mpz(1), b]
        for _ in range(2, 1 << window):
            row.append(row[-1] * b % n2)
        table.append(row)
        b = row[-1] * b % n2
    return table


def comb_power(table: list[list[mpz]], exponent: int, n2: mpz, window: int = COMB_WINDOW) -> mpz:
    acc = mpz(1)
    mask = (1 << window) - 1
    for row in table:
        digit = exponent & mask
        if digit:
            acc = acc * row[digit] % n2
        exponent >>= window
    return acc


def djn_obfuscators(table: list[list[mpz]], alphas: Sequence[int], n2: mpz) -> list[mpz]:
    """hs^α for each α < 2^alpha_bits (Damgård–Jurik–Nielsen): ~alpha_bits/8 products.

    The caller draws the α, uniform below 2^alpha_bits: from the OS, or derived from the
    party's secret so that a replayed program re-sends the same ciphertexts.
    """
    return [comb_power(table, alpha, n2) for alpha in alphas]


def multi_exp(
    bases: Sequence[mpz], terms: Sequence[Sequence[tuple[int, int]]], n2: mpz
) -> list[mpz]:
    """For each output o: Π b[i]^e mod n² over its (i, e) terms; e may be negative.

    Straus' method: one 4-bit window table per base, shared by every output that uses the
    base, and one run of squarings per output instead of one per term. Negative exponents
    go to a second accumulator inverted once at the end, so no full-size exponent appears.
    """
    tables: dict[int, list[mpz]] = {}
    out = []
    for o_terms in terms:
        bits = max((abs(e).bit_length() for _, e in o_terms), default=0)
        for i, e in o_terms:
            if e and i not in tables:
                row = [mpz(1), bases[i]]
                for _ in range(2, 1 << WINDOW):
                    row.append(row[-1] * bases[i] % n2)
                tables[i] = row
        pos, neg = mpz(1), mpz(1)
        mask = (1 << WINDOW) - 1
        for shift in range(((bits + WINDOW - 1) // WINDOW - 1) * WINDOW, -1, -WINDOW):
            for _ in range(WINDOW):
                pos = pos * pos % n2
                neg = neg * neg % n2
            for i, e in o_terms:
                digit = (abs(e) >> shift) & mask
                if digit:
                    if e > 0:
                        pos = pos * tables[i][digit] % n2
                    else:
                        neg = neg * tables[i][digit] % n2
        out.append(pos if neg == 1 else pos * gmpy2.invert(neg, n2) % n2)
    return out


def shift_pack(groups: list[list[mpz]], shift_bits: int, n2: mpz) -> list[mpz]:
    """[[Σ_j x_j·2^(j·shift_bits)]] for each group [[x_0]], [[x_1]], …: values side by side.

    Horner from the last one: one powmod by 2^shift_bits (shift_bits squarings) per extra
    value. With values interleaved one slot apart (~80 bits) that is ~4 % of an r^n at
    2048 bits, so packing k results into one ciphertext saves k − 1 re-randomisations
    and decryptions almost for free.
    """
    e = mpz(1) << shift_bits
    out = []
    for group in groups:
        acc = group[-1]
        for c in reversed(group[:-1]):
            acc = gmpy2.powmod(acc, e, n2) * c % n2
        out.append(acc)
    return out


_COMB_CACHE: dict[tuple[int, int], list[list[mpz]]] = {}
"""Per-process memo of comb tables (16 MB for 2048-bit keys), keyed by (n², hs)."""


def djn_chunk(n2: mpz, hs: mpz, alpha_bits: int, alphas: list[int]) -> list[mpz]:
    """hs^α for a worker's share of the α; builds the key's comb table once per process."""
    key = (int(n2), int(hs))
    table = _COMB_CACHE.get(key)
    if table is None:
        _COMB_CACHE.clear()  # one key at a time per worker keeps memory bounded
        table = comb_table(hs, alpha_bits, n2)
        _COMB_CACHE[key] = table
    return djn_obfuscators(table, alphas, n2)


_CRT_CACHE: dict[tuple[int, int, int], tuple[list[list[mpz]], list[list[mpz]]]] = {}
"""Per-process memo of the key owner's comb tables mod p² and q² (2 × 27 MB at 2048 bits)."""


def djn_chunk_crt(p: mpz, q: mpz, hs: mpz, alpha_bits: int, alphas: list[int]) -> list[mpz]:
    """The same obfuscators hs^α mod n², computed by the key owner mod p² and q².

    Identical values to `djn_chunk` (same α, same base): CRT only changes how the
    power is computed. Each product is on 2048-bit instead of 4096-bit numbers, ~3.5×
    cheaper, so two half-size combs cost about half of one full-size comb; and with
    half-size entries, wider windows (CRT_COMB_WINDOW) fit in the memory of one.
    """
    p2, q2 = p * p, q * q
    key = (int(p), int(q), int(hs))
    tables = _CRT_CACHE.get(key)
    if tables is None:
        _CRT_CACHE.clear()
        w = CRT_COMB_WINDOW
        tables = (comb_table(hs % p2, alpha_bits, p2, w), comb_table(hs % q2, alpha_bits, q2, w))
        _CRT_CACHE[key] = tables
    q2_inv = gmpy2.invert(q2, p2)
    out = []
    for alpha in alphas:
        xp = comb_power(tables[0], alpha, p2, CRT_COMB_WINDOW)
        xq = comb_power(tables[1], alpha, q2, CRT_COMB_WINDOW)
        out.append(xq + ((xp - xq) * q2_inv % p2) * q2)
    return out
