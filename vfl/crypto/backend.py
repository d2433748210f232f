"""What the Paillier protocols need from a homomorphic backend, on arrays (issue 13).

`HeBackend` is the contract; `Gmpy2Backend` delegates to our kernels, `HeuBackend` to
SecretFlow HEU (vfl/crypto/heu_native.py). Not yet used by the split/transfer protocols.

Randomness never comes from the backend: the caller draws `randomness_bits`-bit integers
from a named stream (engine.RandomSource) and `obfuscators` turns them into encryptions of
zero, so a replayed program re-sends byte-identical ciphertexts whichever backend runs.
Ciphertexts are backend objects (`C`); `to_ints` / `from_ints` give the canonical residues
the wire format carries. Plaintexts are signed integers with |m| < 2^(plaintext_bits − 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import gmpy2
from gmpy2 import mpz

from vfl.crypto import heu_native, kernels, ou
from vfl.crypto.keys import KeyPair

C = TypeVar("C")

_LIMB = 62
"""HEU's scalar multiply takes an int64: wider scalars go in 62-bit limbs."""


class HeBackend(Protocol[C]):
    """The array operations the Paillier protocols use, under one key pair."""

    name: str

    @property
    def plaintext_bits(self) -> int:
        """Every |m| < 2^(plaintext_bits − 1) round-trips: 2047 for 2048-bit Paillier, 683
        for HEU's 2048-bit OU (which accepts |m| ≤ 2^682)."""
        ...

    @property
    def randomness_bits(self) -> int:
        """Bits of each random integer `obfuscators` takes."""
        ...

    def obfuscators(self, randomness: Sequence[int]) -> list[C]:
        """Encryptions of zero, one per random integer: deterministic in `randomness`."""
        ...

    def encrypt(self, plaintexts: Sequence[int], obfuscators: Sequence[C]) -> list[C]: ...

    def decrypt(self, cts: Sequence[C]) -> list[int]:
        """Signed plaintexts (centred residues)."""
        ...

    def add(self, a: Sequence[C], b: Sequence[C]) -> list[C]: ...

    def add_plain(
        self, cts: Sequence[C], plaintexts: Sequence[int], obfuscators: Sequence[C]
    ) -> list[C]:
        """[[x + m]], re-randomised by the obfuscators."""
        ...

    def rerandomize(self, cts: Sequence[C], obfuscators: Sequence[C]) -> list[C]: ...

    def linear(self, bases: Sequence[C], terms: Sequence[Sequence[tuple[int, int]]]) -> list[C]:
        """Σ e·x_i under encryption for each output's (i, e) terms; e of any size and sign."""
        ...

    def pack_shifted(self, cts: Sequence[C], per: int, shift_bits: int) -> list[C]:
        """Runs of `per` ciphertexts as one [[Σ_j x_j·2^(j·shift_bits)]] each."""
        ...

    def to_ints(self, cts: Sequence[C]) -> list[int]: ...

    def from_ints(self, values: Sequence[int]) -> list[C]: ...


class ResidueOps:
    """The operations every scheme whose ciphertexts are residues mod `modulus` shares:
    product for addition, power for scalar multiplication (Paillier mod n², OU mod n)."""

    modulus: mpz

    def add(self, a: Sequence[mpz], b: Sequence[mpz]) -> list[mpz]:
        m = self.modulus
        return [x * y % m for x, y in zip(a, b, strict=True)]

    def rerandomize(self, cts: Sequence[mpz], obfuscators: Sequence[mpz]) -> list[mpz]:
        return self.add(cts, obfuscators)

    def linear(self, bases: Sequence[mpz], terms: Sequence[Sequence[tuple[int, int]]]) -> list[mpz]:
        return kernels.multi_exp(bases, terms, self.modulus)

    def pack_shifted(self, cts: Sequence[mpz], per: int, shift_bits: int) -> list[mpz]:
        groups = [list(cts[i : i + per]) for i in range(0, len(cts), per)]
        return kernels.shift_pack(groups, shift_bits, self.modulus)

    def to_ints(self, cts: Sequence[mpz]) -> list[int]:
        return [int(c) for c in cts]

    def from_ints(self, values: Sequence[int]) -> list[mpz]:
        return [mpz(v) for v in values]


class Gmpy2Backend(ResidueOps):
    """Our gmpy2 kernels (DJN obfuscators hs^α, CRT decryption), inline in this process."""

    name = "gmpy2"

    def __init__(self, keys: KeyPair) -> None:
        self._pub, self._priv = keys.public, keys.private
        self.modulus = self._pub.n2
        self._table = kernels.comb_table(self._pub.hs, self._pub.alpha_bits, self._pub.n2)

    @property
    def plaintext_bits(self) -> int:
        return (int(self._pub.n) // 2 + 1).bit_length()

    @property
    def randomness_bits(self) -> int:
        return self._pub.alpha_bits

    def obfuscators(self, randomness: Sequence[int]) -> list[mpz]:
        return kernels.djn_obfuscators(self._table, randomness, self._pub.n2)

    def encrypt(self, plaintexts: Sequence[int], obfuscators: Sequence[mpz]) -> list[mpz]:
        return kernels.encrypt_with(plaintexts, obfuscators, self._pub.n)

    def decrypt(self, cts: Sequence[mpz]) -> list[int]:
        n = int(self._pub.n)
        out = [int(m) for m in kernels.decrypt_crt(cts, self._priv.p, self._priv.q)]
        return [m - n if m > n // 2 else m for m in out]

    def add_plain(
        self, cts: Sequence[mpz], plaintexts: Sequence[int], obfuscators: Sequence[mpz]
    ) -> list[mpz]:
        return kernels.add_plain(cts, plaintexts, obfuscators, self._pub.n)


class HeuBackend:
    """SecretFlow HEU: ZPaillier under our own key, or OU under a key HEU generates.

    Obfuscators are ours (hs^α by our comb for ZPaillier; H^r with a 256-bit r for OU,
    H read from HEU's public key), loaded into HEU as encryptions of zero; HEU does the
    rest. Its scalar multiply takes int64, so wider scalars go limb by limb.
    """

    def __init__(
        self,
        scheme: heu_native.HeuScheme,
        obfuscate: Callable[[Sequence[int]], list[int]],
        randomness_bits: int,
    ) -> None:
        self._he = scheme
        self._obfuscate = obfuscate
        self._randomness_bits = randomness_bits
        self.name = f"heu-{scheme.schema.lower()}"

    @staticmethod
    def zpaillier(keys: KeyPair) -> HeuBackend:
        pub, priv = keys.public, keys.private
        scheme = heu_native.zpaillier_from_keys(int(pub.n), int(pub.hs), int(priv.p), int(priv.q))
        table = kernels.comb_table(pub.hs, pub.alpha_bits, pub.n2)

        def obfuscate(randomness: Sequence[int]) -> list[int]:
            return [int(o) for o in kernels.djn_obfuscators(table, randomness, pub.n2)]

        return HeuBackend(scheme, obfuscate, pub.alpha_bits)

    @staticmethod
    def ou(key_bits: int) -> HeuBackend:
        scheme = heu_native.HeuScheme.generate("OU", key_bits)
        h, n = mpz(scheme.ou_h()), mpz(scheme.modulus)

        def obfuscate(randomness: Sequence[int]) -> list[int]:
            return [int(gmpy2.powmod(h, r, n)) for r in randomness]

        return HeuBackend(scheme, obfuscate, ou.SHORT_RANDOMNESS_BITS)

    @property
    def plaintext_bits(self) -> int:
        return (self._he.plaintext_bound + 1).bit_length()

    @property
    def randomness_bits(self) -> int:
        return self._randomness_bits

    def obfuscators(self, randomness: Sequence[int]) -> list[Any]:
        return self.from_ints(self._obfuscate(randomness))

    def encrypt(self, plaintexts: Sequence[int], obfuscators: Sequence[Any]) -> list[Any]:
        he = self._he
        return [he.add_plain(o, m) for m, o in zip(plaintexts, obfuscators, strict=True)]

    def decrypt(self, cts: Sequence[Any]) -> list[int]:
        return [self._he.decrypt(c) for c in cts]

    def add(self, a: Sequence[Any], b: Sequence[Any]) -> list[Any]:
        return [self._he.add(x, y) for x, y in zip(a, b, strict=True)]

    def add_plain(
        self, cts: Sequence[Any], plaintexts: Sequence[int], obfuscators: Sequence[Any]
    ) -> list[Any]:
        he = self._he
        return [
            he.add(he.add_plain(c, m), o)
            for c, m, o in zip(cts, plaintexts, obfuscators, strict=True)
        ]

    def rerandomize(self, cts: Sequence[Any], obfuscators: Sequence[Any]) -> list[Any]:
        return self.add(cts, obfuscators)

    def _mul(self, c: Any, k: int) -> Any:
        """[[k·x]] for any k: int64 limbs of 62 bits, most significant first (Horner)."""
        he = self._he
        if -(1 << 63) <= k < 1 << 63:
            return he.mul(c, k)
        sign, k = (-1 if k < 0 else 1), abs(k)
        limbs = []
        while k:
            limbs.append(k & ((1 << _LIMB) - 1))
            k >>= _LIMB
        acc = he.mul(c, sign * limbs[-1])
        for limb in reversed(limbs[:-1]):
            acc = he.mul(acc, 1 << _LIMB)
            if limb:
                acc = he.add(acc, he.mul(c, sign * limb))
        return acc

    def linear(self, bases: Sequence[Any], terms: Sequence[Sequence[tuple[int, int]]]) -> list[Any]:
        out = []
        for o_terms in terms:
            acc = None
            for i, e in o_terms:
                t = self._mul(bases[i], e)
                acc = t if acc is None else self._he.add(acc, t)
            out.append(acc if acc is not None else self._he.mul(bases[0], 0))
        return out

    def pack_shifted(self, cts: Sequence[Any], per: int, shift_bits: int) -> list[Any]:
        out = []
        for i in range(0, len(cts), per):
            group = list(cts[i : i + per])
            acc = group[-1]
            for c in reversed(group[:-1]):
                acc = self._he.add(self._mul(acc, 1 << shift_bits), c)
            out.append(acc)
        return out

    def to_ints(self, cts: Sequence[Any]) -> list[int]:
        return [self._he.to_int(c) for c in cts]

    def from_ints(self, values: Sequence[int]) -> list[Any]:
        return [self._he.from_int(v) for v in values]
