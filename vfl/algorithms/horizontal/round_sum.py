"""One sum over a round's parties, plain or securely aggregated, over the job's channel.

`party_sum` is a sample holder's side, `aggregate_sum` the aggregator's. Under secure
aggregation they run `secure_aggregation.py`'s protocol (messages.py has the diagram):
parties tell each other their mask keys and shares party to party (sealed), and the
aggregator, which announces who is still here at each step, learns only the sum over the
parties whose masked input arrived. Without it each party sends its vector in the clear
(`Update`), which the robust rules need.

With compression = int8 under secure aggregation the contribution vector (all but the last
EXTRA values) is quantized on the job's public grid (`public_grid.py`) and its levels are
masked in the narrow ring of `level_ring.py` (Z/2^16 up to 257 sampled parties), while
the EXTRA values (weight, n·loss, n) stay exact in their own Z/2^64 part: `MaskedLevels`
is 2 bytes a coordinate instead of `MaskedInput`'s 8. The aggregator unmasks Σ levels
exactly and maps it back with the grid's public affine map.

The aggregator waits at each step up to round_timeout_s, and counts only the parties that
answered in time: a late or repeated message of round r sits under round r's sequence
numbers and is never read in another round, so no update is counted twice.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from vfl.algorithms.horizontal.compression import Quantized, TopK, dequantize, quantize
from vfl.algorithms.horizontal.messages import (
    KeyShares,
    MaskedInput,
    MaskedLevels,
    MaskKey,
    QuantizedUpdate,
    SharesSent,
    SparseUpdate,
    Survivors,
    Unmask,
    UnmaskShares,
    Update,
)
from vfl.algorithms.horizontal.public_grid import PublicGrid
from vfl.algorithms.horizontal.round_plan import EXTRA
from vfl.algorithms.horizontal.secure_aggregation import KeyShares as HeldShares
from vfl.algorithms.horizontal.secure_aggregation import (
    SecAggAggregator,
    SecAggParty,
    default_threshold,
)
from vfl.algorithms.horizontal.secure_aggregation import UnmaskShares as Answer
from vfl.algorithms.horizontal.strategies import Vector
from vfl.config.horizontal_spec import Compression
from vfl.crypto.secagg import ring
from vfl.crypto.secagg.level_ring import LevelRing
from vfl.errors import CryptoError, PeerUnavailableError, ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import DerivedRandomness

AGGREGATOR = "coordinator"
"""The aggregator's participant name: the coordinator hosts it."""
SHARE = 68
"""Bytes of one serialized Shamir share (2-byte index, 66-byte value)."""


@dataclass(frozen=True)
class SumSettings:
    """How one sum runs: secure or plain, its fixed point, the aggregator's deadline, and
    how a party compresses its vector; the last EXTRA values travel in full."""

    secure: bool
    fraction_bits: int
    timeout_s: float
    compression: Compression = Compression.NONE
    topk: TopK | None = None
    """The party's top-k state (its error-feedback residual), with compression = topk."""
    grid: PublicGrid | None = None
    """The public int8 grid, with compression = int8 under secure aggregation."""

    @property
    def secure_int8(self) -> bool:
        return self.secure and self.compression is Compression.INT8


def byte_stream(source: DerivedRandomness) -> Callable[[int], bytes]:
    """Bytes drawn in order from a party-secret stream: the same on a replayed run."""
    counter = itertools.count()
    return lambda n: source.bits(next(counter), 8 * n).to_bytes(n, "big")


def party_sum(
    ctx: PartyContext,
    parties: Sequence[str],
    vector: Vector,
    settings: SumSettings,
    randomness: DerivedRandomness,
) -> None:
    """Add this party's `vector` to the sum over `parties` (the round's sampled parties)."""
    if not settings.secure:
        ctx.send(AGGREGATOR, _compressed(vector, settings, randomness))
        return
    me = ctx.party
    peers = [p for p in parties if p != me]
    state = SecAggParty(
        me, parties, default_threshold(len(parties)), _context(ctx), byte_stream(randomness)
    )
    key = MaskKey(state.public_key())
    for peer in peers:  # to the peers first: if A has it, their copies were sent before
        ctx.send(peer, key)
    ctx.send(AGGREGATOR, key)
    advertised = ctx.recv(AGGREGATOR, Survivors).parties
    if me not in advertised:
        return  # too late this round: the others go on without this party
    keys = {me: key.public}
    for peer in advertised:
        if peer != me:
            keys[peer] = ctx.recv(peer, MaskKey).public
    for holder, shares in state.shares().items():
        if holder == me:
            state.hold(me, shares)
        elif holder in advertised:
            ctx.send(holder, KeyShares(shares.seed, shares.mask_key))
    ctx.send(AGGREGATOR, SharesSent(len(advertised)))
    survivors = ctx.recv(AGGREGATOR, Survivors).parties
    if me not in survivors:
        return
    for peer in survivors:
        if peer != me:
            held = ctx.recv(peer, KeyShares)
            state.hold(peer, HeldShares(held.seed, held.mask_key))
    ctx.send(AGGREGATOR, _masked(state, vector, survivors, keys, settings, randomness))
    request = ctx.recv(AGGREGATOR, Unmask)
    answer = state.unmask(request.alive, request.dropped)
    ctx.send(
        AGGREGATOR,
        UnmaskShares(
            tuple(answer.seeds),
            b"".join(answer.seeds.values()),
            tuple(answer.mask_keys),
            b"".join(answer.mask_keys.values()),
        ),
    )


@dataclass(frozen=True)
class RoundSum:
    """What the aggregator learned: the sum and the parties counted in it (in order), or,
    without secure aggregation, every party's vector (for the robust rules)."""

    total: Vector
    counted: tuple[str, ...]
    vectors: dict[str, Vector]


def aggregate_sum(
    ctx: PartyContext, parties: Sequence[str], size: int, settings: SumSettings
) -> RoundSum:
    """The sum over the `parties` that answer before the deadline (at least the secure
    aggregation threshold under it; CryptoError otherwise, the round fails)."""
    if settings.secure:
        return _secure_sum(ctx, parties, size, settings)
    deadline = time.monotonic() + settings.timeout_s
    return _plain_sum(ctx, parties, size, deadline, settings.compression)


def _masked(
    state: SecAggParty,
    vector: Vector,
    survivors: Sequence[str],
    keys: dict[str, bytes],
    settings: SumSettings,
    randomness: DerivedRandomness,
) -> MaskedInput | MaskedLevels:
    """The party's masked input: 64-bit fixed point, or int8 levels in the narrow ring."""
    if not settings.secure_int8:
        words = ring.encode(vector, settings.fraction_bits)
        return MaskedInput(state.masked_input((words,), survivors, keys)[0])
    grid = _grid(settings)
    # the rounding coins come from the party's secret stream (numpy's generator seeded with
    # its key, as plain int8 and the DP noise draw theirs), never from the job seed
    levels = grid.quantize(vector[:-EXTRA], randomness.generator())
    narrow = LevelRing.for_parties(len(state.parties))
    extra = ring.encode(vector[-EXTRA:], settings.fraction_bits)
    body, tail = state.masked_input((narrow.words(levels), extra), survivors, keys)
    return MaskedLevels(narrow.to_limbs(body), tail)


def _grid(settings: SumSettings) -> PublicGrid:
    assert settings.grid is not None, "a secure int8 sum needs the job's public grid"
    return settings.grid


def _compressed(
    vector: Vector, settings: SumSettings, randomness: DerivedRandomness
) -> Update | QuantizedUpdate | SparseUpdate:
    body, extra = vector[:-EXTRA], vector[-EXTRA:].astype(np.float64)
    if settings.compression is Compression.INT8:
        packed = quantize(body, randomness.generator())
        return QuantizedUpdate(packed.values, packed.offset, packed.scale, extra)
    if settings.compression is Compression.TOPK:
        assert settings.topk is not None, "a top-k sum needs the party's residual state"
        sparse = settings.topk.compress(body)
        return SparseUpdate(sparse.indices, sparse.values, extra)
    return Update(vector.astype(np.float64))


def _expanded(party: str, got: Update | QuantizedUpdate | SparseUpdate, size: int) -> Vector:
    """A party's plain vector from what it sent; a malformed one is its ProtocolError."""
    body = size - EXTRA
    if isinstance(got, Update):
        if got.vector.shape != (size,):
            raise ProtocolError(
                f"update from {party}: {got.vector.shape[0]} values, expected {size}"
            )
        return got.vector
    if got.extra.shape != (EXTRA,):
        raise ProtocolError(f"update from {party}: {got.extra.shape[0]} extra values, not {EXTRA}")
    if isinstance(got, QuantizedUpdate):
        if got.levels.shape != (body,) or not np.isfinite([got.offset, got.scale]).all():
            raise ProtocolError(f"int8 update from {party}: wrong length or range")
        dense = dequantize(Quantized(got.levels, got.offset, got.scale))
    else:
        indices = got.indices.astype(np.int64)
        if got.values.shape != indices.shape or (
            indices.size
            and (
                indices.min() < 0
                or indices.max() >= body
                or np.unique(indices).size != indices.size
            )
        ):
            raise ProtocolError(f"top-k update from {party}: indices out of range or repeated")
        dense = np.zeros(body)
        dense[indices] = got.values
    return np.concatenate([dense, got.extra])


def _plain_sum(
    ctx: PartyContext, parties: Sequence[str], size: int, deadline: float, compression: Compression
) -> RoundSum:
    kind: type[Update] | type[QuantizedUpdate] | type[SparseUpdate] = {
        Compression.NONE: Update,
        Compression.INT8: QuantizedUpdate,
        Compression.TOPK: SparseUpdate,
    }[compression]
    vectors: dict[str, Vector] = {}
    for party in parties:
        got = _until(ctx, party, kind, deadline)
        if got is not None:
            vectors[party] = _expanded(party, got, size)
    total = np.sum(list(vectors.values()), axis=0) if vectors else np.zeros(size)
    return RoundSum(total, tuple(vectors), vectors)


def _secure_sum(
    ctx: PartyContext, parties: Sequence[str], size: int, settings: SumSettings
) -> RoundSum:
    """Each step waits up to the step timeout from its own start: a party late at one step
    must not leave the next step (the others' prompt answers) no time at all."""
    step_s = settings.timeout_s
    state = SecAggAggregator(parties, default_threshold(len(parties)), _context(ctx))
    deadline = time.monotonic() + step_s
    for party in parties:
        key = _until(ctx, party, MaskKey, deadline)
        if key is not None:
            state.public_keys[party] = key.public
    _announce(ctx, parties, sorted(state.public_keys))
    deadline = time.monotonic() + step_s
    for party in state.public_keys:
        if _until(ctx, party, SharesSent, deadline) is not None:
            state.shared.add(party)
    survivors = state.survivors()
    _announce(ctx, parties, survivors)
    deadline = time.monotonic() + step_s
    kind: type[MaskedInput] | type[MaskedLevels] = (
        MaskedLevels if settings.secure_int8 else MaskedInput
    )
    for party in survivors:
        masked = _until(ctx, party, kind, deadline)
        if masked is not None:
            state.inputs[party] = _parts(party, masked, size, len(parties))
    alive, dropped = state.unmask_request()
    for party in survivors:  # any survivor holds shares; late inputs count as dropped
        ctx.send(party, Unmask(tuple(alive), tuple(dropped)))
    deadline = time.monotonic() + step_s
    for party in survivors:
        got = _until(ctx, party, UnmaskShares, deadline)
        if got is not None:
            state.answers[party] = Answer(
                _split(got.seed_owners, got.seeds), _split(got.key_owners, got.keys)
            )
    totals = state.total()
    if not settings.secure_int8:
        return RoundSum(ring.decode(totals[0], settings.fraction_bits), tuple(alive), {})
    body = _grid(settings).dequantize_sum(totals[0], len(alive))
    extra = ring.decode(totals[1], settings.fraction_bits)
    return RoundSum(np.concatenate([body, extra]), tuple(alive), {})


def _parts(
    party: str, masked: MaskedInput | MaskedLevels, size: int, parties: int
) -> tuple[ring.AnyWords, ...]:
    """A party's masked input as ring parts; a malformed one is its ProtocolError."""
    if isinstance(masked, MaskedInput):
        if masked.words.shape != (size,):
            raise ProtocolError(f"masked input from {party}: wrong length")
        return (masked.words,)
    narrow = LevelRing.for_parties(parties)
    limbs = (size - EXTRA) * narrow.limbs_per_word
    if masked.limbs.shape != (limbs,) or masked.extra.shape != (EXTRA,):
        raise ProtocolError(f"masked int8 input from {party}: wrong length")
    return (narrow.from_limbs(masked.limbs), masked.extra)


def _announce(ctx: PartyContext, to: Sequence[str], parties: Sequence[str]) -> None:
    for party in to:
        ctx.send(party, Survivors(tuple(parties)))


_M = TypeVar("_M")


def _until(ctx: PartyContext, party: str, kind: type[_M], deadline: float) -> _M | None:
    """The message, or None if it did not come before the deadline (the party dropped)."""
    try:
        return ctx.recv(party, kind, timeout=max(0.0, deadline - time.monotonic()))
    except PeerUnavailableError:
        return None


def _split(owners: Sequence[str], blob: bytes) -> dict[str, bytes]:
    if len(blob) != SHARE * len(owners):
        raise CryptoError(f"{len(owners)} shares in {len(blob)} bytes")
    return {o: blob[i * SHARE : (i + 1) * SHARE] for i, o in enumerate(owners)}


def _context(ctx: PartyContext) -> bytes:
    return f"{ctx.job_id}/{ctx.scope}".encode()
