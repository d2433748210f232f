"""Vectorised Paillier on integer lists: what the protocol sides call on the hot path.

`PaillierEngine` works under one public key; with the private key it can also decrypt.
Obfuscators come from a pool that is topped up in the background (`prefill`), so the
party's own encryptions cost one modular multiplication each when it needs them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future

from gmpy2 import mpz

from vfl.crypto import kernels
from vfl.crypto.keys import KeyPair, PrivateKey, PublicKey
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import CryptoError

_CHUNK = 64
"""Obfuscators per background job: small enough to interleave with other work."""


class PaillierEngine:
    def __init__(self, key: PublicKey, pool: WorkerPool, private: PrivateKey | None = None) -> None:
        self.key = key
        self.pool = pool
        self._private = private
        self._ready: deque[mpz] = deque()
        self._pending: deque[Future[list[mpz]]] = deque()

    @staticmethod
    def owner(keys: KeyPair, pool: WorkerPool) -> PaillierEngine:
        return PaillierEngine(keys.public, pool, keys.private)

    # -- obfuscators -------------------------------------------------------------------
    def prefill(self, count: int) -> None:
        """Start computing `count` obfuscators in the background."""
        for _ in range(-(-count // _CHUNK)):
            self._pending.append(
                self.pool.submit(
                    kernels.djn_chunk, self.key.n2, self.key.hs, self.key.alpha_bits, _CHUNK
                )
            )

    def obfuscators(self, count: int) -> list[mpz]:
        while len(self._ready) < count and self._pending:
            self._ready.extend(self._pending.popleft().result())
        missing = count - len(self._ready)
        if missing > 0:
            counts = [1] * missing
            fresh = self.pool.map_split(
                _djn_counts, counts, self.key.n2, self.key.hs, self.key.alpha_bits
            )
            self._ready.extend(fresh)
        return [self._ready.popleft() for _ in range(count)]

    # -- operations ----------------------------------------------------------------------
    def encrypt(self, plaintexts: Sequence[int]) -> list[mpz]:
        return kernels.encrypt_with(plaintexts, self.obfuscators(len(plaintexts)), self.key.n)

    def add_plain(self, cts: Sequence[mpz], plaintexts: Sequence[int]) -> list[mpz]:
        """[[x + m]], each multiplied by a fresh obfuscator: this re-randomises."""
        return kernels.add_plain(cts, plaintexts, self.obfuscators(len(cts)), self.key.n)

    def rerandomize(self, cts: Sequence[mpz]) -> list[mpz]:
        return self.add_plain(cts, [0] * len(cts))

    def linear(self, bases: Sequence[mpz], terms: Sequence[Sequence[tuple[int, int]]]) -> list[mpz]:
        """Π_i [[x_i]]^e for each output's (i, e) terms: Σ e·x_i under encryption."""
        return self.pool.map_split(_multi_exp_chunk, list(terms), list(bases), self.key.n2)

    def decrypt(self, cts: Sequence[mpz]) -> list[mpz]:
        if self._private is None:
            raise CryptoError("this party does not hold the private key of these ciphertexts")
        return self.pool.map_split(kernels.decrypt_crt, list(cts), self._private.p, self._private.q)


def _djn_counts(counts: list[int], n2: mpz, hs: mpz, alpha_bits: int) -> list[mpz]:
    return kernels.djn_chunk(n2, hs, alpha_bits, sum(counts))


def _multi_exp_chunk(
    terms: list[Sequence[tuple[int, int]]], bases: list[mpz], n2: mpz
) -> list[mpz]:
    used = sorted({i for o in terms for i, _ in o})
    index = {i: k for k, i in enumerate(used)}
    local = [[(index[i], e) for i, e in o] for o in terms]
    return kernels.multi_exp([bases[i] for i in used], local, n2)
