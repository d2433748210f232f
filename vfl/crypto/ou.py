"""Okamoto–Uchiyama (OU) keys and kernels in gmpy2: the accelerated variant HEU also uses.

n = p²q with p = t·u + 1 for a prime t of 224 (k < 3072) or 256 bits (Coron, Naccache &
Paillier, "Accelerating Okamoto–Uchiyama public-key cryptosystem", Electronics Letters
35(4), 1999). G = g^u and H = h^(n·u) mod n; [[m]] = G^m·H^r mod n. Mod p², H has order
dividing t and G^t = g^(p−1) has order p, so the key owner decrypts with ONE power mod p²
by the short exponent t: m = L(c^t mod p²) · L(G^t mod p²)^−1 mod p, L(x) = (x − 1)/p.

Plaintexts live mod p, which is secret: |m| < 2^(plaintext_bits − 1) with plaintext_bits
= ⌈k/3⌉, a third of Paillier's. Homomorphic operations are Paillier's with n in place of
n²: add = product, scalar multiply = power, so `kernels.multi_exp` / `shift_pack` /
`comb_table` serve both schemes with the modulus passed in.

Randomness is the caller's (replay determinism): `obfuscators` turns integers r into H^r
by a fixed-base comb. Two widths (docs/paillier.md, "OU"):
- `SHORT_RANDOMNESS_BITS` = 256 ≥ 2λ for λ = 128: hides from parties that do not hold
  the factorisation (short-exponent assumption, as the DJN α of our Paillier);
- `owner_randomness_bits` = bits(n) + 40: H^r within 2^-40 of uniform in ⟨H⟩ (ord(H) < n),
  so a ciphertext whose randomness is this r is hiding even against the key owner, who
  can take discrete logs in ⟨H⟩ — the role of Paillier's owner-hiding obfuscators.

**Overflow attack.** A plaintext ≥ p decrypts reduced mod p, and a returned reduced value
gives gcd(m − m′, n) = p. `decrypt_bounded` refuses any result outside the caller's bound
(a wrapped value is a near-uniform residue mod p, so a b-bit bound lets one through with
probability ~2^(b+1−bits(p))); the protocol must decrypt only through it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

import gmpy2
from gmpy2 import mpz

from vfl.crypto import kernels
from vfl.errors import CryptoError

SHORT_RANDOMNESS_BITS = 256
"""r of H^r for ciphertexts only non-owners see: ≥ 2λ against square-root attacks (HEU's
own encryptor draws 110 bits, see docs/paillier.md)."""
STATISTICAL_BITS = 40
"""Statistical-distance target 2^-40 for owner-facing randomness."""
OU_MIN_KEY_BITS = 2048
_MR_ROUNDS = 40


def subgroup_bits(key_bits: int) -> int:
    """Bits of t, the prime order of ⟨H⟩ mod p²: NIST subgroup sizes, as HEU."""
    return 256 if key_bits >= 3072 else 224 if key_bits >= 2048 else 160


@dataclass(frozen=True)
class OuPublicKey:
    """n = p²q and the bases G, H: enough to encrypt and compute, not to decrypt."""

    n: mpz
    g: mpz
    h: mpz
    key_bits: int
    """The requested size k: plaintext_bits = ⌈k/3⌉ is public through it."""

    @property
    def plaintext_bits(self) -> int:
        """Every |m| < 2^(plaintext_bits − 1) decrypts exactly (p > 2^plaintext_bits)."""
        return (self.key_bits + 2) // 3

    @property
    def width(self) -> int:
        """Bytes of one serialised ciphertext (an integer below n)."""
        return (int(self.n.bit_length()) + 7) // 8

    @property
    def owner_randomness_bits(self) -> int:
        return int(self.n.bit_length()) + STATISTICAL_BITS

    @property
    def bits(self) -> int:
        """The key size k (checked against n's length by `check`)."""
        return self.key_bits

    @property
    def ct_modulus(self) -> mpz:
        """Ciphertexts are residues mod n (Paillier's are mod n²)."""
        return self.n

    @property
    def plain_width(self) -> int:
        """Bytes of one serialised (masked) plaintext value: below n."""
        return self.width

    @property
    def fingerprint(self) -> bytes:
        """SHA-256 of n and the bases: which key a ciphertext is under."""
        body = b"".join(gmpy2.to_binary(v) for v in (self.n, self.g, self.h))
        return hashlib.sha256(b"ou" + body).digest()

    @staticmethod
    def from_bytes(n: bytes, g: bytes, h: bytes, key_bits: int, where: str) -> OuPublicKey:
        """Parse and sanity-check a peer's OU public key (one line on failure)."""
        if not OU_MIN_KEY_BITS // 4 <= key_bits <= 16384:
            raise CryptoError(f"{where}: key_bits {key_bits} out of range; regenerate keys")
        n_int, g_int, h_int = (mpz(int.from_bytes(v, "big")) for v in (n, g, h))
        key = OuPublicKey(n_int, g_int, h_int, key_bits)
        key.check(where)
        return key

    def check(self, where: str) -> None:
        """Sanity checks on a peer's public key: sizes and ranges, one line on failure."""
        n = self.n
        if n.bit_length() < self.key_bits - 8 or n % 2 == 0 or gmpy2.is_prime(n):
            raise CryptoError(f"{where}: the OU modulus has the wrong form; regenerate keys")
        for name, base in (("G", self.g), ("H", self.h)):
            if not 1 < base < n or gmpy2.gcd(base, n) != 1:
                raise CryptoError(f"{where}: OU base {name} out of range; regenerate keys")


@dataclass(frozen=True)
class OuPrivateKey:
    """The factorisation and the decryption constants; never leaves its owner."""

    p: mpz
    q: mpz
    t: mpz
    g_inv: mpz
    """L(G^t mod p²)^−1 mod p."""
    p2: mpz = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "p2", self.p * self.p)

    def __repr__(self) -> str:
        return "OuPrivateKey(<hidden>)"


@dataclass(frozen=True)
class OuKeyPair:
    """An OU public key with its private key."""

    public: OuPublicKey
    private: OuPrivateKey = field(repr=False)


def generate_ou_keypair(key_bits: int, *, allow_insecure: bool = False) -> OuKeyPair:
    """A fresh key of `key_bits` (n has about key_bits + 4 bits); ≥ 2048 unless testing."""
    if key_bits < OU_MIN_KEY_BITS and not allow_insecure:
        raise CryptoError(
            f"train.key_bits: {key_bits} is below OU's minimum {OU_MIN_KEY_BITS}; use 3072"
        )
    secret = (key_bits + 2) // 3
    t_bits = subgroup_bits(key_bits)
    if 2 * t_bits > secret:
        raise CryptoError(f"OU key_bits {key_bits} is too small for a {t_bits}-bit subgroup")
    t = _prime_exact(t_bits)
    while True:
        u = mpz(secrets.randbits(secret - t_bits + 1) | (1 << (secret - t_bits))) & ~mpz(1)
        p = t * u + 1
        if p.bit_length() > secret and gmpy2.is_prime(p, _MR_ROUNDS):
            break
    q = _prime_exact(secret + 1)
    n = p * p * q
    p2 = p * p
    while True:
        g = mpz(secrets.randbelow(int(n) - 2) + 2)
        gp = gmpy2.powmod(g % p2, p - 1, p2)
        if gcd_ok(g, n) and gp != 1:  # L(gp) ≠ 0: G^t generates the order-p subgroup
            break
    while True:
        h0 = mpz(secrets.randbelow(int(n) - 2) + 2)
        if gcd_ok(h0, n):
            break
    g_big = gmpy2.powmod(g, u, n)
    h_big = gmpy2.powmod(h0, n * u, n)
    g_inv = gmpy2.invert((gp - 1) // p, p)
    private = OuPrivateKey(p, q, t, g_inv)
    return OuKeyPair(OuPublicKey(n, g_big, h_big, key_bits), private)


def gcd_ok(x: mpz, n: mpz) -> bool:
    return bool(gmpy2.gcd(x, n) == 1)


def _prime_exact(bits: int) -> mpz:
    while True:
        c = mpz(secrets.randbits(bits) | (1 << (bits - 1)) | 1)
        if gmpy2.is_prime(c, _MR_ROUNDS):
            return c


# -- kernels (plain integers, so a worker process can run them) ------------------------


def encrypt_with(
    plaintexts: Sequence[int], obfuscators: Sequence[mpz], g_table: list[list[mpz]], n: mpz
) -> list[mpz]:
    """G^m·H^r mod n for ready obfuscators H^r, G^|m| by its comb; negative m as G^−|m|.

    |m| must be below the comb's range (2^plaintext_bits): a larger m is refused, not
    silently truncated."""
    limit = 1 << (len(g_table) * kernels.COMB_WINDOW)
    out = []
    for m, r in zip(plaintexts, obfuscators, strict=True):
        if abs(m) >= limit:
            raise CryptoError("OU plaintext outside the key's plaintext space; pack fewer bits")
        gm = kernels.comb_power(g_table, abs(m), n)
        if m < 0:
            gm = gmpy2.invert(gm, n)
        out.append(gm * r % n)
    return out


def decrypt(cts: Sequence[mpz], key: OuPrivateKey) -> list[int]:
    """Signed plaintexts: one power mod p² by the short exponent t each."""
    p, p2, half = key.p, key.p2, key.p // 2
    out = []
    for c in cts:
        m = (gmpy2.powmod(c % p2, key.t, p2) - 1) // p * key.g_inv % p
        out.append(int(m - p) if m > half else int(m))
    return out


def decrypt_bounded(
    cts: Sequence[mpz],
    key: OuPrivateKey,
    bound_bits: int,
    what: str,
    offsets: Sequence[int] | None = None,
) -> list[int]:
    """`decrypt`, refusing any |m| ≥ 2^bound_bits: the only decryption the protocol may use
    on ciphertexts a peer computed (the overflow attack, see the module docstring).

    With `offsets`, the value checked and returned is m + offset mod p (centred): the key
    owner's own term added before anything leaves it (split's F3 adds a·acc), so the bound
    applies to what is sent, not to an intermediate the owner keeps."""
    if offsets is None:
        out = decrypt(cts, key)
    else:
        p, half = key.p, key.p // 2
        out = []
        for m, extra in zip(decrypt(cts, key), offsets, strict=True):
            v = (m + extra) % p
            out.append(int(v - p) if v > half else int(v))
    limit = 1 << bound_bits
    for i, m in enumerate(out):
        if not -limit < m < limit:
            raise CryptoError(
                f"{what}: value {i} decrypts outside ±2^{bound_bits} (a plaintext overflow or "
                "a forged ciphertext); the job stops and nothing derived from it is sent"
            )
    return out


_TABLES: dict[tuple[bytes, int], list[list[mpz]]] = {}
"""Per-process memo of fixed-base combs (G and H of the key in use), for worker chunks."""


def _table(base: mpz, bits: int, n: mpz) -> list[list[mpz]]:
    key = (hashlib.sha256(gmpy2.to_binary(n) + gmpy2.to_binary(base)).digest(), bits)
    table = _TABLES.get(key)
    if table is None:
        if len(_TABLES) > 4:
            _TABLES.clear()
        table = _TABLES[key] = kernels.comb_table(base, bits, n)
    return table


def obfuscator_chunk(n: mpz, h: mpz, bits: int, draws: list[int]) -> list[mpz]:
    """H^r mod n for each r < 2^bits: what a worker runs (the comb is built once)."""
    table = _table(h, bits, n)
    return [kernels.comb_power(table, r, n) for r in draws]


def encrypt_chunk(pairs: list[tuple[int, mpz]], n: mpz, g: mpz, bits: int) -> list[mpz]:
    """G^m·H^r mod n for (m, ready H^r) pairs, |m| < 2^bits: what a worker runs."""
    plaintexts, obfuscators = [m for m, _ in pairs], [o for _, o in pairs]
    return encrypt_with(plaintexts, obfuscators, _table(g, bits, n), n)


def decrypt_bounded_offset(
    pairs: list[tuple[mpz, int]], key: OuPrivateKey, bound_bits: int, what: str
) -> list[int]:
    """`decrypt_bounded` of (ciphertext, owner's offset) pairs: what a worker runs."""
    return decrypt_bounded([c for c, _ in pairs], key, bound_bits, what, [o for _, o in pairs])


def g_table(key: OuPublicKey) -> list[list[mpz]]:
    """The fixed-base comb of G for plaintext magnitudes (|m| < 2^plaintext_bits)."""
    return kernels.comb_table(key.g, key.plaintext_bits, key.n)


def h_table(key: OuPublicKey, randomness_bits: int) -> list[list[mpz]]:
    """The fixed-base comb of H for exponents below 2^randomness_bits."""
    return kernels.comb_table(key.h, randomness_bits, key.n)
