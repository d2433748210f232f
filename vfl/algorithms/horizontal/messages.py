"""Messages of horizontal federated learning: sample holders P and the aggregator A (the
coordinator's program, participant `coordinator`).

Train phase (scope round=r; before round 0, one "stats" sum when standardize = true):

    P (each)                                        A
    |<-- RoundStart(r, sampled, x) -----------------|  every party; x only if sampled
    |    train locally from x                       |
    | plain:   Update(vector, weight, loss, n) ---->|  strategy / robust rule
    | secagg:  MaskKey(pk) -> every sampled P and A |
    |          KeyShares -> each sampled P (sealed) |
    |          SharesSent ------------------------->|  U2
    |<-- Survivors(U2) -----------------------------|
    |          MaskedInput(y) --------------------->|  U3
    |          (int8: MaskedLevels(y_q, y_extra))   |
    |<-- Unmask(U3, U2∖U3) -------------------------|
    |          UnmaskShares ----------------------->|  Σ over U3, then the strategy
    |<-- RoundStart(rounds, final=True, x) ---------|  after the last round: the model

Evaluate phase: A → P `RoundStart(final)` with the model, P → A `LocalMetrics`.

What each message reveals is written beside it. The summed vector of a round is
[contribution vector (d), contribution weight, n·loss, n]: the aggregator learns the
round's sums (the model update, the total weight, the weighted training loss, the number
of samples) and, under secure aggregation, nothing about one party's update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from vfl.protocol.content import Content
from vfl.protocol.serde import message
from vfl.protocol.types import TensorSpec

F64Vector = Annotated[np.ndarray, TensorSpec("float64", ndim=1)]
U64Vector = Annotated[np.ndarray, TensorSpec("uint64", ndim=1)]

STATS_ROUND = "stats"

PERSONAL = "/personal"
"""Suffix of a split scored with a party's personalized model (personalization)."""


def metric_splits(personalized: bool) -> tuple[str, ...]:
    """The splits each party scores in the evaluate phase, in the order it sends them."""
    base = ("train", "validation")
    return base + tuple(s + PERSONAL for s in base) if personalized else base


"""The scope of the feature-statistics sum that precedes round 0."""


@message("horizontal.Schema", Content.PLAIN)
@dataclass(frozen=True)
class Schema:
    """P → A, once per phase. P's feature column names, in order: every party must have
    the same (checked by A before training). Reveals column names, never values."""

    features: tuple[str, ...]


@message("horizontal.Scaling", Content.PLAIN)
@dataclass(frozen=True)
class Scaling:
    """A → P. The federation's feature mean and scale, from the stats sum (each party's
    Σx, Σx² and row count, securely summed): what every party standardizes with."""

    mean: F64Vector
    scale: F64Vector


@message("horizontal.RoundStart", Content.PLAIN)
@dataclass(frozen=True)
class RoundStart:
    """A → P. Whether P takes part in round `round` and, if so (or if `final`), the global
    parameters. Reveals the global model, which every party receives anyway."""

    round: int
    sampled: bool
    final: bool
    parties: tuple[str, ...]
    """The round's sampled parties (secure aggregation runs among them)."""
    params: F64Vector


@message("horizontal.Update", Content.PLAIN)
@dataclass(frozen=True)
class Update:
    """P → A without secure aggregation: P's contribution in the clear (what the robust
    rules need). Reveals P's model update, sample count and training loss to A."""

    vector: F64Vector


I8Vector = Annotated[np.ndarray, TensorSpec("int8", ndim=1)]
I32Vector = Annotated[np.ndarray, TensorSpec("int32", ndim=1)]
F32Vector = Annotated[np.ndarray, TensorSpec("float32", ndim=1)]


@message("horizontal.QuantizedUpdate", Content.PLAIN)
@dataclass(frozen=True)
class QuantizedUpdate:
    """P → A, compression = int8: the contribution in 8-bit levels over its range
    (unbiased stochastic rounding) and the sums' extra values in full. Reveals what Update
    does, to 1/255 of its range."""

    levels: I8Vector
    offset: float
    scale: float
    extra: F64Vector


@message("horizontal.SparseUpdate", Content.PLAIN)
@dataclass(frozen=True)
class SparseUpdate:
    """P → A, compression = topk: the largest coordinates of the contribution (plus what
    earlier rounds did not send) and the extra values. Reveals what Update does, for
    those coordinates."""

    indices: I32Vector
    values: F32Vector
    extra: F64Vector


@message("horizontal.AsyncUpdate", Content.PLAIN)
@dataclass(frozen=True)
class AsyncUpdate:
    """P → A, asynchronous aggregation: P's contribution (as Update) and the model version
    it trained from, which gives its staleness. Reveals what Update does."""

    version: int
    vector: F64Vector


@message("horizontal.MaskKey", Content.PUBLIC_KEY)
@dataclass(frozen=True)
class MaskKey:
    """P → every sampled P and A. A fresh X25519 public key for this round's masks.
    Reveals nothing about P's data."""

    public: bytes


@message("horizontal.KeyShares", Content.SHARES)
@dataclass(frozen=True)
class KeyShares:
    """P → Q, sealed end to end (the relay never reads it). Q's Shamir shares of P's
    self-mask seed and mask key: fewer than the threshold reveal nothing."""

    seed: bytes
    mask_key: bytes


@message("horizontal.SharesSent", Content.PLAIN)
@dataclass(frozen=True)
class SharesSent:
    """P → A. P sent its shares (A learns who is still here)."""

    count: int


@message("horizontal.Survivors", Content.PLAIN)
@dataclass(frozen=True)
class Survivors:
    """A → P. U2, the parties whose masks take part. Public to the round's parties."""

    parties: tuple[str, ...]


@message("horizontal.MaskedInput", Content.MASKED)
@dataclass(frozen=True)
class MaskedInput:
    """P → A. P's vector plus its self-mask and pairwise masks, mod 2^64: uniform to A."""

    words: U64Vector


U16Vector = Annotated[np.ndarray, TensorSpec("uint16", ndim=1)]


@message("horizontal.MaskedLevels", Content.MASKED)
@dataclass(frozen=True)
class MaskedLevels:
    """P → A, secure aggregation with compression = int8: P's 8-bit levels on the public
    grid (public_grid.py) masked in Z/2^w, w = 16 or 32 from the round's party count, as
    16-bit limbs (level_ring.py), and the extra values masked in Z/2^64 as MaskedInput's.
    Uniform to A, in each ring; 2 (or 4) bytes a coordinate instead of 8."""

    limbs: U16Vector
    extra: U64Vector


@message("horizontal.Unmask", Content.PLAIN)
@dataclass(frozen=True)
class Unmask:
    """A → P. U3 (inputs arrived) and U2∖U3 (dropped after sharing)."""

    alive: tuple[str, ...]
    dropped: tuple[str, ...]


@message("horizontal.UnmaskShares", Content.SHARES)
@dataclass(frozen=True)
class UnmaskShares:
    """P → A. Shares of b_v for v alive, of s_v for v dropped, never both for one v."""

    seed_owners: tuple[str, ...]
    seeds: bytes
    key_owners: tuple[str, ...]
    keys: bytes


@message("horizontal.PrivacySpent", Content.PLAIN)
@dataclass(frozen=True)
class PrivacySpent:
    """P → A after the last round, with DP-SGD: the ε P's accountant gives for its rows.
    Reported in the result."""

    epsilon: float


@message("horizontal.LocalMetrics", Content.PLAIN)
@dataclass(frozen=True)
class LocalMetrics:
    """P → A, evaluate phase. P's own metrics of the final model on its held-out rows and
    their count: reported per party and weighted in the result (the operator sees them)."""

    split: str
    names: tuple[str, ...]
    values: F64Vector
    samples: int
