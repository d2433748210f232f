"""The protocol engine for `he_scheme = "ou"`: Okamoto–Uchiyama under one public key.

Same streams and operations as `PaillierEngine` (engine.py), with n in place of n² and two
differences the protocols must respect (docs/paillier.md, "OU in split learning"):

- **Masks are statistical.** Plaintexts live mod the secret p, so nobody but the key owner
  can draw a mask uniform mod p. A packed value x with |x| < 2^b is masked by
  e = 2^b + U[0, 2^(b+41)): x + e lies in (0, 2^(b+42)) and, for any two x, x', the two
  distributions are |x − x'| / 2^(b+41) < 2^-40 apart. `capacity_bits` leaves room for
  that: b + 42 ≤ plaintext_bits − 1, so x + e decrypts exactly (no reduction mod p).
- **The key owner decrypts only through a bound.** `open` refuses any value outside the
  bound the protocol states, before anything derived from it leaves the owner: a peer that
  sends an encryption of m ≥ p would otherwise learn p from the reduced value (the overflow
  attack, vfl/crypto/ou.py; tests/unit/split_ou/test_ou_attacks.py mounts it).

Obfuscation: the owner's own encryptions use H^r with r of 256 bits (hiding from parties
without the factorisation); a non-owner re-randomising ciphertexts that go back to the
owner (`Obfuscation.OWNER_HIDING`) uses r of bits(n) + 40 bits, within 2^-40 of uniform in
⟨H⟩ whatever the owner knows, so the randomness of L's products (Π H^(r_k·V_k)) tells F
nothing of V. Plaintexts a non-owner adds (δ·V, which is wider than p) are encrypted as
G^m for |m| < 2^bits(n): m need not fit p, only the final result must.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

from gmpy2 import mpz

from vfl.config.he_scheme import OU_MASK_MARGIN_BITS, HeScheme
from vfl.crypto import ou
from vfl.crypto.engine import Obfuscation, OsRandom, RandomSource, StreamEngine
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import CryptoError


class OuEngine(StreamEngine):
    """OU under one public key; with the private key (the owner) it can also `open`."""

    def __init__(
        self,
        key: ou.OuPublicKey,
        pool: WorkerPool,
        private: ou.OuPrivateKey | None = None,
        obfuscation: Obfuscation = Obfuscation.DJN,
    ) -> None:
        super().__init__(pool)
        self.key: ou.OuPublicKey = key
        self._private = private
        self.obfuscation = obfuscation
        self._r_bits = (
            key.owner_randomness_bits
            if obfuscation is Obfuscation.OWNER_HIDING
            else ou.SHORT_RANDOMNESS_BITS
        )
        self._m_bits = int(key.n.bit_length())

    @staticmethod
    def owner(keys: ou.OuKeyPair, pool: WorkerPool) -> OuEngine:
        return OuEngine(keys.public, pool, keys.private)

    def _obfuscate(self, source: RandomSource, start: int, count: int) -> Future[list[mpz]]:
        draws = [source.bits(i, self._r_bits) for i in range(start, start + count)]
        k = self.key
        return self.pool.submit(ou.obfuscator_chunk, k.n, k.h, self._r_bits, draws)

    @property
    def capacity_bits(self) -> int:
        """SlotLayout.for_key fills (capacity − 2) bits: b ≤ plaintext_bits − 43, so a
        masked b-bit value (b + 42 bits) stays below 2^(plaintext_bits − 1) < p/2."""
        return HeScheme.OU.capacity_bits(self.key.key_bits)

    def encrypt(self, plaintexts: Sequence[int], source: RandomSource | None = None) -> list[mpz]:
        obf = self.obfuscators(source or OsRandom(), len(plaintexts))
        pairs = list(zip(plaintexts, obf, strict=True))
        return self.pool.map_split(ou.encrypt_chunk, pairs, self.key.n, self.key.g, self._m_bits)

    def add_plain(
        self, cts: Sequence[mpz], plaintexts: Sequence[int], source: RandomSource | None = None
    ) -> list[mpz]:
        fresh = self.encrypt(plaintexts, source)
        n = self.key.n
        return [a * b % n for a, b in zip(cts, fresh, strict=True)]

    def hiding_masks(self, draws: RandomSource, count: int, packed_bits: int) -> list[int]:
        """e = 2^b + U[0, 2^(b+41)) for b = packed_bits (module docstring)."""
        base = 1 << packed_bits
        width = packed_bits + ou.STATISTICAL_BITS + 1
        return [base + draws.bits(i, width) for i in range(count)]

    def masked_bound_bits(self, packed_bits: int) -> int:
        return packed_bits + OU_MASK_MARGIN_BITS

    def open(
        self,
        cts: Sequence[mpz],
        bound_bits: int,
        what: str,
        offsets: Sequence[int] | None = None,
    ) -> list[int]:
        if self._private is None:
            raise CryptoError("this party does not hold the private key of these ciphertexts")
        if bound_bits > self.key.plaintext_bits - 1:
            raise CryptoError(f"{what}: a {bound_bits}-bit bound does not fit the OU plaintext")
        if offsets is None:
            return self.pool.map_split(ou.decrypt_bounded, cts, self._private, bound_bits, what)
        pairs = list(zip(cts, offsets, strict=True))
        return self.pool.map_split(
            ou.decrypt_bounded_offset, pairs, self._private, bound_bits, what
        )
