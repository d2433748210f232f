"""Secure aggregation that survives dropouts (Bonawitz et al. 2017, complete graph), as two
state machines: `SecAggParty` (each sample holder) and `SecAggAggregator` (the coordinator).
They are pure: the programs move their messages over the job's sealed channel.

One round, parties U, threshold t = ⌊|U|/2⌋ + 1 by default:

    party u                                          aggregator
    1. fresh X25519 mask key (s_u) and self-mask
       seed b_u; MaskKey(pk_u) → every party and
       the aggregator (sealed, so authentic)
    2. Shamir-split b_u and s_u (t of |U|);
       KeyShares → each v, party to party (sealed:
       the relay never sees a share); SharesSent →   U2 = who sent its shares
    3. y_u = x_u + PRG(b_u) + Σ_{v∈U2} ±PRG(s_uv)    ← Survivors(U2)
       mod 2^64 (or 2^w); MaskedInput(y_u) →         U3 = who sent y
    4. ← Unmask(U3, U2∖U3); once per round: b_v's
       share for v ∈ U3, s_v's share for v ∈ U2∖U3;
       never both for one v. UnmaskShares →          ≥ t answers: rebuild each b_v (v ∈ U3)
                                                     and s_v (v ∈ U2∖U3), remove the masks:
                                                     Σ_{u∈U3} x_u exactly.

s_uv = HKDF(X25519(s_u, pk_v), job, round, {u, v}); +PRG(s_uv) if u < v, − otherwise, so
pairwise masks cancel in the sum. An input may have several parts, each in its own ring
(secure int8: 8-bit levels in Z/2^16 or 2^32, `level_ring.py`, and the exact extra values
in Z/2^64); each part is masked from a keystream of its own, in words of its own width,
so no pad is used twice. Leakage, message by message (tests/unit/secagg mount the attacks):
- MaskKey: a fresh public key, nothing about data.
- KeyShares (to a party): one share of b_u and of s_u; fewer than t reveal nothing.
- MaskedInput (to the aggregator): uniform in its ring (Z/2^64, or Z/2^w for levels) per
  coordinate (one-time pad by PRG(b_u)), whatever x_u is, unless it learns b_u *and* s_u.
- UnmaskShares (to the aggregator): shares of b_v for v that sent y_v, of s_v for v that
  did not. A party answers once per round and never for both of one v, and t > |U|/2, so
  even an aggregator that tells parties different stories gets t shares of at most one of
  b_v and s_v: it learns the sum over U3 and nothing else.
The aggregator is trusted to report U3 consistently only for liveness; a lying one makes
the round fail, not leak. Up to |U| − t parties may drop at any step; more fail the round
with a clear error and change nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vfl.crypto.secagg import ring, shamir
from vfl.crypto.secagg.shamir import Share
from vfl.errors import CryptoError, ProtocolError

RandomBytes = Callable[[int], bytes]


def default_threshold(parties: int) -> int:
    """⌊n/2⌋ + 1: the most dropouts (n − t) that still keeps two inconsistent unmask
    requests from both reaching t."""
    return parties // 2 + 1


@dataclass(frozen=True)
class KeyShares:
    """Party u's shares for holder v: of its self-mask seed and of its mask private key."""

    seed: bytes
    mask_key: bytes


@dataclass(frozen=True)
class UnmaskShares:
    """A party's answer to Unmask: shares of b_v (v alive) and of s_v (v dropped)."""

    seeds: dict[str, bytes]
    mask_keys: dict[str, bytes]


def pair_seed(shared: bytes, context: bytes, a: str, b: str) -> bytes:
    low, high = sorted((a, b))
    info = b"vfl secagg pair\x00" + context + b"\x00" + low.encode() + b"\x00" + high.encode()
    return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(shared)


SELF, PAIR = b"self", b""
"""Stream labels of the self-mask and the pairwise masks."""


def _mask(seed: bytes, like: ring.AnyWords, label: bytes, part: int) -> ring.AnyWords:
    """The mask of part `part` from `seed`: words of `like`'s ring and length, from a stream
    of their own (part 0 keeps the bare label), so no two parts share keystream."""
    purpose = label if part == 0 else label + f"#{part}".encode()
    return ring.expand(seed, like.size, purpose, like.dtype.type)


@dataclass
class SecAggParty:
    """One sample holder's side of one round."""

    me: str
    parties: Sequence[str]
    threshold: int
    context: bytes
    """Binds pairwise seeds to the job and round (e.g. job id and round number)."""
    random_bytes: RandomBytes = secrets.token_bytes
    """Where b_u, s_u and the Shamir coefficients come from: the OS, or the party's own
    secret (replay-deterministic resume); never anything a peer knows."""
    _held: dict[str, KeyShares] = field(default_factory=dict)
    _answered: bool = False

    def __post_init__(self) -> None:
        self._mask_key = X25519PrivateKey.from_private_bytes(self.random_bytes(32))
        self._seed = self.random_bytes(32)

    @property
    def _holders(self) -> list[str]:
        return sorted(self.parties)

    def public_key(self) -> bytes:
        return self._mask_key.public_key().public_bytes_raw()

    def shares(self) -> dict[str, KeyShares]:
        """This party's shares for every party (itself included), by holder."""
        n = len(self._holders)
        raw_key = self._mask_key.private_bytes_raw()
        seeds = shamir.split(self._seed, n, self.threshold, self.random_bytes)
        keys = shamir.split(raw_key, n, self.threshold, self.random_bytes)
        return {
            holder: KeyShares(seeds[i].to_bytes(), keys[i].to_bytes())
            for i, holder in enumerate(self._holders)
        }

    def hold(self, owner: str, shares: KeyShares) -> None:
        if owner not in self.parties:
            raise ProtocolError(f"shares from {owner}, who is not in this round")
        self._held.setdefault(owner, shares)

    def masked_input(
        self,
        parts: Sequence[ring.AnyWords],
        survivors: Sequence[str],
        public_keys: dict[str, bytes],
    ) -> tuple[ring.AnyWords, ...]:
        """y = x + PRG(b) ± PRG(s_uv) for every other survivor v, part by part, each part in
        its own ring (its word dtype: Z/2^16, 2^32 or 2^64) with masks of its own stream."""
        if self.me not in survivors:
            raise ProtocolError(f"{self.me} is not among this round's survivors")
        missing = [v for v in survivors if v != self.me and v not in self._held]
        if missing:
            raise ProtocolError(f"no key shares from {missing[0]}; it cannot be a survivor")
        seeds = {
            peer: pair_seed(
                self._mask_key.exchange(X25519PublicKey.from_public_bytes(public_keys[peer])),
                self.context,
                self.me,
                peer,
            )
            for peer in survivors
            if peer != self.me
        }
        out = []
        for index, update in enumerate(parts):
            masked = update + _mask(self._seed, update, SELF, index)
            for peer, seed in seeds.items():
                stream = _mask(seed, update, PAIR, index)
                masked = masked + stream if self.me < peer else masked - stream
            out.append(masked)
        return tuple(out)

    def unmask(self, alive: Sequence[str], dropped: Sequence[str]) -> UnmaskShares:
        """Shares for the aggregator, once per round, never both secrets of one party."""
        if self._answered:
            raise ProtocolError(f"{self.me} already answered this round's unmask request")
        both = set(alive) & set(dropped)
        if both:
            raise ProtocolError(f"unmask asks for both secrets of {sorted(both)[0]}; refused")
        if len(alive) < self.threshold:
            raise ProtocolError(
                f"only {len(alive)} inputs arrived, fewer than the threshold {self.threshold}"
            )
        self._answered = True
        return UnmaskShares(
            seeds={v: self._held[v].seed for v in alive if v in self._held},
            mask_keys={v: self._held[v].mask_key for v in dropped if v in self._held},
        )


@dataclass
class SecAggAggregator:
    """The coordinator's side of one round: it learns the sum over the survivors only."""

    parties: Sequence[str]
    threshold: int
    context: bytes
    public_keys: dict[str, bytes] = field(default_factory=dict)
    shared: set[str] = field(default_factory=set)
    inputs: dict[str, tuple[ring.AnyWords, ...]] = field(default_factory=dict)
    """Each party's masked parts; round_sum checks every party sent the same layout."""
    answers: dict[str, UnmaskShares] = field(default_factory=dict)

    def survivors(self) -> list[str]:
        """U2: parties that published a key and sent their shares."""
        return sorted(p for p in self.shared if p in self.public_keys)

    def unmask_request(self) -> tuple[list[str], list[str]]:
        """(U3, U2∖U3): whose self-masks and whose pairwise masks to remove."""
        alive = sorted(self.inputs)
        if len(alive) < self.threshold:
            raise CryptoError(
                f"secure aggregation: {len(alive)} of {len(self.parties)} parties sent their "
                f"input, fewer than the threshold {self.threshold}; the round fails"
            )
        return alive, [p for p in self.survivors() if p not in self.inputs]

    def total(self) -> tuple[ring.AnyWords, ...]:
        """Σ x_u over U3, part by part, from at least t answers; CryptoError (nothing
        changed) if fewer."""
        alive, dropped = self.unmask_request()
        if len(self.answers) < self.threshold:
            raise CryptoError(
                f"secure aggregation: {len(self.answers)} parties answered the unmask "
                f"request, fewer than the threshold {self.threshold}; the round fails"
            )
        holders = sorted(self.parties)

        def rebuild(owner: str, pick: Callable[[UnmaskShares], dict[str, bytes]]) -> bytes:
            found = [
                Share.from_bytes(pick(a)[owner]) for a in self.answers.values() if owner in pick(a)
            ]
            if any(s.x < 1 or s.x > len(holders) for s in found):
                raise CryptoError(f"a share for {owner} names no holder")
            return shamir.combine(found, self.threshold)

        self_seeds = [rebuild(party, lambda a: a.seeds) for party in alive]
        # (seed, sign) of every pairwise mask a dropped party left in a survivor's input
        orphaned: list[tuple[bytes, bool]] = []
        for gone in dropped:
            key = X25519PrivateKey.from_private_bytes(rebuild(gone, lambda a: a.mask_keys))
            for peer in alive:
                shared = key.exchange(X25519PublicKey.from_public_bytes(self.public_keys[peer]))
                # peer masked with −stream if gone < peer (gone's +), so add back accordingly
                orphaned.append((pair_seed(shared, self.context, gone, peer), gone < peer))
        totals = []
        for index, like in enumerate(self.inputs[alive[0]]):
            total = np.zeros_like(like)
            for party, seed in zip(alive, self_seeds, strict=True):
                total = total + self.inputs[party][index] - _mask(seed, like, SELF, index)
            for seed, add in orphaned:
                stream = _mask(seed, like, PAIR, index)
                total = total + stream if add else total - stream
            totals.append(total)
        return tuple(totals)
