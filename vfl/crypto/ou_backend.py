"""`HeBackend` for Okamoto–Uchiyama on our own gmpy2 kernels (vfl/crypto/ou.py).

Same contract as the Paillier backends (vfl/crypto/backend.py), with n in place of n² for
every homomorphic operation. `randomness_bits` is chosen per use: the short 256-bit r
for ciphertexts only non-owners see, or the key's `owner_randomness_bits` for ciphertexts
that go back to the key owner (hiding against it).
"""

from __future__ import annotations

from collections.abc import Sequence

from gmpy2 import mpz

from vfl.crypto import kernels, ou
from vfl.crypto.backend import ResidueOps


class OuBackend(ResidueOps):
    """OU under one key pair, our kernels inline in this process."""

    name = "gmpy2-ou"

    def __init__(self, keys: ou.OuKeyPair, randomness_bits: int = ou.SHORT_RANDOMNESS_BITS) -> None:
        self._pub, self._priv = keys.public, keys.private
        self._bits = randomness_bits
        self.modulus = self._pub.n
        self._g = ou.g_table(self._pub)
        self._h = ou.h_table(self._pub, randomness_bits)

    @property
    def plaintext_bits(self) -> int:
        return self._pub.plaintext_bits

    @property
    def randomness_bits(self) -> int:
        return self._bits

    def obfuscators(self, randomness: Sequence[int]) -> list[mpz]:
        return [kernels.comb_power(self._h, r, self._pub.n) for r in randomness]

    def encrypt(self, plaintexts: Sequence[int], obfuscators: Sequence[mpz]) -> list[mpz]:
        return ou.encrypt_with(plaintexts, obfuscators, self._g, self._pub.n)

    def decrypt(self, cts: Sequence[mpz]) -> list[int]:
        return ou.decrypt(cts, self._priv)

    def decrypt_bounded(self, cts: Sequence[mpz], bound_bits: int, what: str) -> list[int]:
        return ou.decrypt_bounded(cts, self._priv, bound_bits, what)

    def add_plain(
        self, cts: Sequence[mpz], plaintexts: Sequence[int], obfuscators: Sequence[mpz]
    ) -> list[mpz]:
        return self.add(cts, self.encrypt(plaintexts, obfuscators))
