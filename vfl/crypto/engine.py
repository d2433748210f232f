"""Vectorised Paillier on integer lists: what the protocol sides call on the hot path.

`PaillierEngine` works under one public key; with the private key it can also decrypt.
Obfuscators come from named random streams (`RandomSource`): obfuscator i of a stream uses
its value i (as the DJN exponent α of hs^α, or as the exponents of an owner-hiding
product), so a stream derived from the party's secret and a message scope gives the same
ciphertexts every time the program runs (replay determinism, see
vfl/runtime/party_secret.py). Streams are computed ahead in the background (`prefill`),
so the party's own encryptions cost one modular multiplication each when it needs them.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from gmpy2 import mpz

from vfl.config.he_scheme import HeScheme
from vfl.crypto import kernels, owner_hiding
from vfl.crypto.keys import KeyPair, PrivateKey, PublicKey
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import CryptoError

_CHUNK = 64
"""Obfuscators per background job: small enough to interleave with other work."""
_REDUCTION_MARGIN_BITS = 128
"""Extra bits drawn before reducing mod n: within 2^-128 of uniform (party_secret.below)."""


class RandomSource(Protocol):
    """A stream of uniform integers by index; `label` (not secret) names the stream."""

    @property
    def label(self) -> str: ...

    def bits(self, index: int, bits: int) -> int:
        """Value `index`, uniform in [0, 2^bits)."""
        ...


class Obfuscation(Enum):
    """How an engine re-randomises (docs/paillier.md, "Who re-randomises how")."""

    DJN = "djn"
    """hs^α with a short α (half the key size): fast, hiding against parties without the
    factorisation. The key owner's own encryptions use it."""
    OWNER_HIDING = "owner_hiding"
    """Π y_j^(a_j) over K secret uniform n-th residues y_j of this party (owner_hiding.py):
    within 2^-41 of a uniform n-th residue even for the key owner, who chose hs and knows
    the factorisation; ~4× cheaper than the textbook r^n. The peer's ciphertexts that go
    back to the key owner use it."""


class OsRandom:
    """Fresh OS randomness, for callers that never replay (tests, benchmarks)."""

    label = "os"

    def bits(self, index: int, bits: int) -> int:
        return secrets.randbits(bits)


@dataclass
class _Stream:
    taken: int = 0
    """Obfuscators handed out; the next one has index `taken`."""
    scheduled: int = 0
    """Indices below this are ready or in the making."""
    ready: deque[mpz] = field(default_factory=deque)
    pending: deque[Future[list[mpz]]] = field(default_factory=deque)


class StreamEngine(ABC):
    """Named obfuscator streams, computed ahead on a worker pool: what every scheme's engine
    shares. A subclass says how one chunk of obfuscators is made and how the protocol's
    operations run under its key."""

    key: Any
    pool: WorkerPool

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        self._streams: dict[str, _Stream] = {}
        self._spent: dict[str, int] = {}  # released streams: how many were handed out

    @abstractmethod
    def _obfuscate(self, source: RandomSource, start: int, count: int) -> Future[list[mpz]]:
        """Obfuscators start .. start+count of `source`, on a worker."""

    # -- obfuscators -------------------------------------------------------------------
    def prefill(self, source: RandomSource, count: int) -> None:
        """Have the next `count` obfuscators of `source` ready or in the making."""
        s = self._stream(source.label)
        want = s.taken + count
        while s.scheduled < want:
            n = min(_CHUNK, want - s.scheduled)
            s.pending.append(self._obfuscate(source, s.scheduled, n))
            s.scheduled += n

    def obfuscators(self, source: RandomSource, count: int) -> list[mpz]:
        """The next `count` obfuscators of `source`: never the same index twice in a run."""
        self._release_before(source.label)
        s = self._stream(source.label)
        while len(s.ready) < count and s.pending:
            s.ready.extend(s.pending.popleft().result())
        missing = count - len(s.ready)
        if missing > 0:
            parts = min(self.pool.workers, missing)
            sizes = [len(range(i, missing, parts)) for i in range(parts)]
            futures = []
            for size in sizes:
                futures.append(self._obfuscate(source, s.scheduled, size))
                s.scheduled += size
            for f in futures:
                s.ready.extend(f.result())
        s.taken += count
        return [s.ready.popleft() for _ in range(count)]

    def _stream(self, label: str) -> _Stream:
        s = self._streams.get(label)
        if s is None:
            done = self._spent.pop(label, 0)
            s = self._streams[label] = _Stream(taken=done, scheduled=done)
        return s

    def _release_before(self, label: str) -> None:
        """Drop the obfuscators of streams opened before `label` (finished, or a prefill
        guessed a scope that never came). Only their counters are kept, so no index is
        ever handed out twice in a run."""
        for other in list(self._streams):
            if other == label:
                break
            s = self._streams.pop(other)
            for f in s.pending:
                f.cancel()
            self._spent[other] = s.taken

    # -- what the protocols call ---------------------------------------------------------
    @property
    @abstractmethod
    def capacity_bits(self) -> int:
        """What `SlotLayout.for_key` may fill: packed plaintexts plus their masks fit."""

    @abstractmethod
    def encrypt(
        self, plaintexts: Sequence[int], source: RandomSource | None = None
    ) -> list[mpz]: ...

    @abstractmethod
    def add_plain(
        self, cts: Sequence[mpz], plaintexts: Sequence[int], source: RandomSource | None = None
    ) -> list[mpz]:
        """[[x + m]], each multiplied by a fresh obfuscator: this re-randomises."""

    def rerandomize(self, cts: Sequence[mpz], source: RandomSource | None = None) -> list[mpz]:
        return self.add_plain(cts, [0] * len(cts), source)

    def linear(self, bases: Sequence[mpz], terms: Sequence[Sequence[tuple[int, int]]]) -> list[mpz]:
        """Π_i [[x_i]]^e for each output's (i, e) terms: Σ e·x_i under encryption."""
        return self.pool.map_split(_multi_exp_chunk, list(terms), list(bases), self.key.ct_modulus)

    def pack_shifted(self, cts: Sequence[mpz], per: int, shift_bits: int) -> list[mpz]:
        """Runs of `per` ciphertexts [[x_0]], …, [[x_per−1]] as one [[Σ_j x_j·2^(j·shift_bits)]]
        each (the last run may be shorter): their packed slots side by side."""
        groups = [list(cts[i : i + per]) for i in range(0, len(cts), per)]
        return self.pool.map_split(kernels.shift_pack, groups, shift_bits, self.key.ct_modulus)

    @abstractmethod
    def hiding_masks(self, draws: RandomSource, count: int, packed_bits: int) -> list[int]:
        """Masks for `count` packed values of |x| < 2^packed_bits that the key owner will
        decrypt: x + mask must tell the owner nothing of x (within 2^-40 per value)."""

    @abstractmethod
    def masked_bound_bits(self, packed_bits: int) -> int:
        """Bits of |x + mask| the key owner's `open` accepts for such a masked value."""

    @abstractmethod
    def open(
        self,
        cts: Sequence[mpz],
        bound_bits: int,
        what: str,
        offsets: Sequence[int] | None = None,
    ) -> list[int]:
        """The key owner's decryption of a peer's ciphertexts (+ its own `offsets`), as
        integers the caller may send on: refused when the scheme needs a bound and a value
        breaks `bound_bits`."""


class PaillierEngine(StreamEngine):
    """Paillier under one public key (with the private key, also decrypts)."""

    def __init__(
        self,
        key: PublicKey,
        pool: WorkerPool,
        private: PrivateKey | None = None,
        obfuscation: Obfuscation = Obfuscation.DJN,
        bases: RandomSource | None = None,
    ) -> None:
        """`bases`: the stream of this party's secret bases, required for OWNER_HIDING
        (derived from the party secret so a replay re-sends the same ciphertexts)."""
        if obfuscation is Obfuscation.OWNER_HIDING and bases is None:
            raise CryptoError("an owner-hiding engine needs its party's stream of bases")
        super().__init__(pool)
        self.key: PublicKey = key
        self._private = private
        self.obfuscation = obfuscation
        self._base_source = bases
        self._bases: list[mpz] | None = None

    @staticmethod
    def owner(keys: KeyPair, pool: WorkerPool) -> PaillierEngine:
        return PaillierEngine(keys.public, pool, keys.private)

    def _obfuscate(self, source: RandomSource, start: int, count: int) -> Future[list[mpz]]:
        """Obfuscators start .. start+count of `source` on a worker (by CRT for the owner)."""
        k = self.key
        if self.obfuscation is Obfuscation.OWNER_HIDING:
            bits = owner_hiding.randomness_bits(k.bits)
            draws = [source.bits(i, bits) for i in range(start, start + count)]
            w = owner_hiding.exponent_bits(k.bits)
            return self.pool.submit(owner_hiding.obfuscators, k.n2, self._hiding_bases(), w, draws)
        alphas = [source.bits(i, k.alpha_bits) for i in range(start, start + count)]
        if self._private is not None:
            p, q = self._private.p, self._private.q
            return self.pool.submit(kernels.djn_chunk_crt, p, q, k.hs, k.alpha_bits, alphas)
        return self.pool.submit(kernels.djn_chunk, k.n2, k.hs, k.alpha_bits, alphas)

    def _hiding_bases(self) -> list[mpz]:
        """This party's K secret bases y_j = s_j^n, computed once (split over the workers)."""
        if self._bases is None:
            assert self._base_source is not None
            bits = owner_hiding.base_randomness_bits(self.key.bits)
            draws = [self._base_source.bits(j, bits) for j in range(owner_hiding.BASES)]
            self._bases = self.pool.map_split(owner_hiding.make_bases, draws, self.key.n)
        return self._bases

    @property
    def capacity_bits(self) -> int:
        return HeScheme.PAILLIER.capacity_bits(self.key.bits)

    def encrypt(self, plaintexts: Sequence[int], source: RandomSource | None = None) -> list[mpz]:
        obf = self.obfuscators(source or OsRandom(), len(plaintexts))
        return kernels.encrypt_with(plaintexts, obf, self.key.n)

    def add_plain(
        self, cts: Sequence[mpz], plaintexts: Sequence[int], source: RandomSource | None = None
    ) -> list[mpz]:
        obf = self.obfuscators(source or OsRandom(), len(cts))
        return kernels.add_plain(cts, plaintexts, obf, self.key.n)

    def hiding_masks(self, draws: RandomSource, count: int, packed_bits: int) -> list[int]:
        """Uniform in Z_n (to 2^-128): x + mask mod n is uniform whatever x."""
        n = int(self.key.n)
        bits = n.bit_length() + _REDUCTION_MARGIN_BITS
        return [draws.bits(i, bits) % n for i in range(count)]

    def masked_bound_bits(self, packed_bits: int) -> int:
        return self.key.bits

    def decrypt(self, cts: Sequence[mpz]) -> list[mpz]:
        if self._private is None:
            raise CryptoError("this party does not hold the private key of these ciphertexts")
        return self.pool.map_split(kernels.decrypt_crt, list(cts), self._private.p, self._private.q)

    def open(
        self,
        cts: Sequence[mpz],
        bound_bits: int,
        what: str,
        offsets: Sequence[int] | None = None,
    ) -> list[int]:
        """Residues mod n: a Paillier plaintext never wraps a secret modulus, so there is no
        overflow to refuse (the masks are uniform mod n, the public modulus)."""
        n = int(self.key.n)
        plain = [int(m) for m in self.decrypt(cts)]
        if offsets is None:
            return plain
        return [(m + extra) % n for m, extra in zip(plain, offsets, strict=True)]


def _multi_exp_chunk(
    terms: list[Sequence[tuple[int, int]]], bases: list[mpz], n2: mpz
) -> list[mpz]:
    used = sorted({i for o in terms for i, _ in o})
    index = {i: k for k, i in enumerate(used)}
    local = [[(index[i], e) for i, e in o] for o in terms]
    return kernels.multi_exp([bases[i] for i in used], local, n2)
