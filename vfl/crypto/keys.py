"""Paillier key pairs: python-paillier generates the primes, we keep raw integers.

The public key carries n and the DJN obfuscator base hs = h^n mod n² (h = -x² mod n for a
random x), so a party that does not own the key can re-randomise cheaply (docs/paillier.md).
The private key never leaves the party that generated it: its only serialiser
(key_file.py) writes to the owner's own workspace, 0600, so a restarted party resumes
under the same key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

import gmpy2
from gmpy2 import mpz
from phe import paillier

from vfl.config.job_spec import MIN_KEY_BITS
from vfl.errors import CryptoError

__all__ = ["MIN_KEY_BITS", "KeyPair", "PrivateKey", "PublicKey", "generate_keypair"]


@dataclass(frozen=True)
class PublicKey:
    n: mpz
    hs: mpz
    n2: mpz = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n2", self.n * self.n)

    @property
    def bits(self) -> int:
        return int(self.n.bit_length())

    @property
    def ct_modulus(self) -> mpz:
        """Ciphertexts are residues mod n² (OU's are mod n)."""
        return self.n2

    @property
    def width(self) -> int:
        """Bytes of one serialised ciphertext (an integer below n²)."""
        return (int(self.n2.bit_length()) + 7) // 8

    @property
    def plain_width(self) -> int:
        """Bytes of one serialised plaintext (an integer below n)."""
        return (self.bits + 7) // 8

    @property
    def alpha_bits(self) -> int:
        """DJN exponent length: ⌈k/2⌉ for a k-bit modulus, as in Damgård–Jurik–Nielsen."""
        return (self.bits + 1) // 2

    @property
    def fingerprint(self) -> bytes:
        """SHA-256 of n: which key a ciphertext is under, without the key."""
        return hashlib.sha256(int(self.n).to_bytes(self.plain_width, "big")).digest()

    @staticmethod
    def from_bytes(n: bytes, hs: bytes, where: str) -> PublicKey:
        """Parse and sanity-check a peer's public key."""
        n_int, hs_int = mpz(int.from_bytes(n, "big")), mpz(int.from_bytes(hs, "big"))
        if n_int.bit_length() < 512 or n_int % 2 == 0 or gmpy2.is_prime(n_int):
            raise CryptoError(f"{where}: the public modulus is not an RSA modulus; regenerate keys")
        if not 1 < hs_int < n_int * n_int or gmpy2.gcd(hs_int, n_int) != 1:
            raise CryptoError(f"{where}: obfuscator base out of range; regenerate keys")
        return PublicKey(n_int, hs_int)


@dataclass(frozen=True)
class PrivateKey:
    p: mpz
    q: mpz

    def __repr__(self) -> str:
        return "PrivateKey(<hidden>)"


@dataclass(frozen=True)
class KeyPair:
    public: PublicKey
    private: PrivateKey = field(repr=False)


def generate_keypair(bits: int = MIN_KEY_BITS) -> KeyPair:
    """A fresh key pair; refuses moduli below MIN_KEY_BITS (tests use vfl.crypto.testing)."""
    if bits < MIN_KEY_BITS:
        raise CryptoError(
            f"train.key_bits: {bits} is below the minimum {MIN_KEY_BITS}; use 2048 or more"
        )
    return _generate(bits)


def _generate(bits: int) -> KeyPair:
    pk, sk = paillier.generate_paillier_keypair(n_length=bits)
    p, q = mpz(sk.p), mpz(sk.q)
    n = p * q
    if n != mpz(pk.n):
        raise CryptoError("key generation produced inconsistent primes; retry")
    x = mpz(secrets.randbelow(int(n) - 2) + 2)
    h = (-(x * x)) % n
    n2 = n * n
    # hs = h^n mod n² with CRT, as the key owner can.
    p2, q2 = p * p, q * q
    hp = gmpy2.powmod(h, n % (p * (p - 1)), p2)
    hq = gmpy2.powmod(h, n % (q * (q - 1)), q2)
    hs = (hq + ((hp - hq) * gmpy2.invert(q2, p2) % p2) * q2) % n2
    return KeyPair(PublicKey(n, hs), PrivateKey(p, q))
