"""ECDH-PSI, the label holder's side: the star centre that decides the shared rows."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from psi.checks import require_distinct, require_unique_ids
from psi.chunks import recv_rows, send_rows
from psi.ecdh.blinding import blind_ids, reblind
from psi.ecdh.messages import Blinded, ChainRequest, ChainResult, Reblinded
from psi.ids import IdSource
from psi.matching import KEY_BYTES, match
from psi.messages import Cardinality
from psi.parallel import GroupPool
from psi.replay import PsiRandomness
from psi.star import (
    Pairs,
    ProgressMeter,
    Star,
    default_source,
    finish_label_holder,
    resume_label_holder,
)
from vfl.runtime.context import PartyContext
from vfl.runtime.events import AlignReport
from vfl.runtime.program import Program

PROTOCOL = "ecdh"


class EcdhLabelHolder(Program):
    phase = "align"

    def __init__(self, source: IdSource | None = None, workers: int | None = None) -> None:
        self._source = source
        self._workers = workers

    def run(self, ctx: PartyContext) -> None:
        star = Star.of(ctx)
        source = self._source or default_source(ctx)
        hint = source.size_hint()
        if resume_label_holder(ctx, star, PROTOCOL, hint):
            return
        meter = ProgressMeter(ctx, hint)
        rand = PsiRandomness(ctx, PROTOCOL)  # replayable: see psi/replay.py
        key = rand.scalar("key")
        with GroupPool(self._workers) as pool:
            mine = blind_ids(pool, source, key, meter)
            require_unique_ids(mine, source)
            if star.cardinality_only:
                count = _cardinality(ctx, star, pool, rand, key, mine, meter)
                for f in star.feature_holders:
                    ctx.send(f, Cardinality(count))
                ctx.report(AlignReport(rows=len(mine), intersection_size=count, protocol=PROTOCOL))
                return
            for f in star.feature_holders:
                send_rows(ctx, f, Blinded, mine)
            rows = len(mine)
            del mine  # bounded memory: only 16-byte keys are kept from here on
            theirs = {f: _their_keys(ctx, f, pool, key, meter) for f in star.feature_holders}
            pairs: dict[str, Pairs] = {}
            for f in star.feature_holders:
                back = recv_rows(ctx, f, Reblinded, KEY_BYTES, limit=rows)
                require_distinct(back, f"ecdh.Reblinded from {f}", expected=rows)
                pairs[f] = match(back, theirs.pop(f))
                del back
        finish_label_holder(ctx, star, source, rows, pairs, PROTOCOL)


def _their_keys(
    ctx: PartyContext, f: str, pool: GroupPool, key: bytes, meter: ProgressMeter
) -> NDArray[np.uint8]:
    """F's values with L's key on: H(y)^ba, kept as 16-byte keys in F's sent order."""
    theirs = recv_rows(ctx, f, Blinded, 32)
    require_distinct(theirs, f"ecdh.Blinded from {f}")
    meter.grow(len(theirs))
    return np.ascontiguousarray(reblind(pool, theirs, key, meter)[:, :KEY_BYTES])


def _cardinality(
    ctx: PartyContext,
    star: Star,
    pool: GroupPool,
    rand: PsiRandomness,
    key: bytes,
    mine: NDArray[np.uint8],
    meter: ProgressMeter,
) -> int:
    """Route every vector through every key it lacks, then count the common values."""
    vectors = [mine]
    applied: list[set[str]] = [set()]
    for f in star.feature_holders:
        theirs = recv_rows(ctx, f, Blinded, 32)
        require_distinct(theirs, f"ecdh.Blinded from {f}")
        meter.grow(len(theirs))
        vectors.append(reblind(pool, theirs, key, meter))
        applied.append({f})
    for f in star.feature_holders:
        todo = [i for i, keys in enumerate(applied) if f not in keys]
        masks = [rand.invertible_scalar(f"mask/{f}/{i}") if len(todo) > 1 else None for i in todo]
        for i, mask in zip(todo, masks, strict=True):
            out = vectors[i] if mask is None else reblind(pool, vectors[i], mask[0])
            send_rows(ctx, f, ChainRequest, out)
        for i, mask in zip(todo, masks, strict=True):
            back = recv_rows(ctx, f, ChainResult, 32, limit=len(vectors[i]))
            require_distinct(back, f"ecdh.ChainResult from {f}", expected=len(vectors[i]))
            vectors[i] = back if mask is None else reblind(pool, back, mask[1])
            applied[i].add(f)
    common = vectors[0][:, :KEY_BYTES]
    for vector in vectors[1:]:
        at, _ = match(common, vector)
        common = common[at]
    return len(common)
