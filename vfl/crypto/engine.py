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
        """Have at least `count` obfuscators ready or in the making, in the background."""
        short = count - len(self._ready) - _CHUNK * len(self._pending)
        for _ in range(-(-short // _CHUNK) if short > 0 else 0):
            self._pending.append(self._djn(_CHUNK))

    def _djn(self, count: int) -> Future[list[mpz]]:
        """`count` obfuscators on a worker: by CRT when this party owns the key."""
        k = self.key
        if self._private is not None:
            p, q = self._private.p, self._private.q
            return self.pool.submit(kernels.djn_chunk_crt, p, q, k.hs, k.alpha_bits, count)
        return self.pool.submit(kernels.djn_chunk, k.n2, k.hs, k.alpha_bits, count)

    def obfuscators(self, count: int) -> list[mpz]:
        while len(self._ready) < count and self._pending:
            self._ready.extend(self._pending.popleft().result())
        missing = count - len(self._ready)
        if missing > 0:
            parts = min(self.pool.workers, missing)
            futures = [self._djn(len(range(i, missing, parts))) for i in range(parts)]
            for f in futures:
                self._ready.extend(f.result())
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


def _multi_exp_chunk(
    terms: list[Sequence[tuple[int, int]]], bases: list[mpz], n2: mpz
) -> list[mpz]:
    used = sorted({i for o in terms for i, _ in o})
    index = {i: k for k, i in enumerate(used)}
    local = [[(index[i], e) for i, e in o] for o in terms]
    return kernels.multi_exp([bases[i] for i in used], local, n2)
