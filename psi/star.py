"""What every PSI protocol shares: the star layout, resuming, and the final agreed rows.

The label holder L is the star centre: it runs a pairwise protocol with each feature
holder, learns for each of them which of its rows they share (pairs of positions), keeps
the rows every party shares, orders them by normalised ID and sends each feature holder
its own positions of those rows. So every party ends with the same rows in the same order,
and a feature holder learns only the rows all parties share.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from psi.checks import require_min_intersection
from psi.chunks import positions_to_rows, recv_rows, rows_to_positions, send_rows
from psi.ids import IdSource, MemoryIds
from psi.messages import AlignCheck, Selection
from psi.padding import PaddedIds
from psi.replay import PsiRandomness
from vfl.config.job_spec import align_roles
from vfl.errors import ProtocolError
from vfl.protocol import serde
from vfl.runtime.context import PartyContext
from vfl.runtime.events import AlignReport, Progress

Pairs = tuple[NDArray[np.int64], NDArray[np.int64]]
"""(L's positions, F's positions) of the rows L and one F share, sorted by L's position."""


@dataclass(frozen=True)
class Star:
    label_holder: str
    feature_holders: tuple[str, ...]
    cardinality_only: bool

    @classmethod
    def of(cls, ctx: PartyContext) -> Star:
        # vertical: label holder / feature holders; transfer: source / target
        roles = align_roles(ctx.job)
        return cls(roles.centre, roles.others, roles.align.cardinality_only)


def default_source(ctx: PartyContext) -> IdSource:
    """The party's own IDs; a transfer target's padded with dummies when the spec says
    `align.pad_target_to` (psi/padding.py: its peers learn the bound, not its count)."""
    data = ctx.require_data()
    ids = MemoryIds(data.source, data.ids)
    roles = align_roles(ctx.job)
    if roles.pad_others_to is None or ctx.party == roles.centre:
        return ids
    stream = PsiRandomness(ctx, "padding").stream("dummies")
    return PaddedIds(ids, data.rows, roles.pad_others_to, stream)


def _digest(ids: Sequence[str]) -> bytes:
    return hashlib.sha256("\n".join(ids).encode("utf-8")).digest()


def _stored(ctx: PartyContext, star: Star) -> AlignCheck:
    """Whether this party holds a stored alignment, as it answered the first time in this
    job: an align restarted after it stored its rows must re-send the same AlignCheck (its
    peers keep the first copy, and `ctx.send` refuses another body under a used number)."""

    def first_answer() -> bytes:
        if star.cardinality_only or not ctx.workspace.has_alignment():
            return serde.encode(AlignCheck(False, b""))
        return serde.encode(AlignCheck(True, _digest(ctx.workspace.load_alignment())))

    name = hashlib.sha256(f"{ctx.job_id}\x00{ctx.scope}".encode()).hexdigest()[:16]
    return serde.decode(ctx.workspace.private(f"align-check-{name}", first_answer), AlignCheck)


def resume_label_holder(ctx: PartyContext, star: Star, protocol: str, rows: int) -> bool:
    """True when every party already holds the same stored alignment (then nothing runs)."""
    mine = _stored(ctx, star)
    theirs = [ctx.recv(f, AlignCheck) for f in star.feature_holders]
    reuse = mine.has_alignment and all(t == mine for t in theirs)
    for f in star.feature_holders:
        ctx.send(f, AlignCheck(reuse, b""))
    if reuse:
        size = len(ctx.workspace.load_alignment())
        ctx.report(AlignReport(rows=rows, intersection_size=size, protocol=protocol))
    return reuse


def resume_feature_holder(ctx: PartyContext, star: Star, protocol: str, rows: int) -> bool:
    ctx.send(star.label_holder, _stored(ctx, star))
    reuse = ctx.recv(star.label_holder, AlignCheck).has_alignment
    if reuse:
        if not ctx.workspace.has_alignment():
            raise ProtocolError(
                f"psi.AlignCheck from {star.label_holder}: reuse of an alignment this party lacks"
            )
        size = len(ctx.workspace.load_alignment())
        ctx.report(AlignReport(rows=rows, intersection_size=size, protocol=protocol))
    return reuse


def finish_label_holder(
    ctx: PartyContext,
    star: Star,
    source: IdSource,
    rows: int,
    pairs: dict[str, Pairs],
    protocol: str,
) -> None:
    common: NDArray[np.int64] | None = None
    for f in star.feature_holders:
        mine = pairs[f][0]
        common = mine if common is None else np.intersect1d(common, mine, assume_unique=True)
    assert common is not None  # a job has at least one feature holder
    ids = source.select(common)
    order = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
    ordered = common[order] if len(order) else common
    for f in star.feature_holders:
        at, theirs = pairs[f]
        send_rows(ctx, f, Selection, positions_to_rows(theirs[np.searchsorted(at, ordered)]))
    aligned = [ids[int(k)] for k in order]
    require_min_intersection(ctx, len(aligned))
    ctx.workspace.save_alignment(aligned)
    ctx.report(AlignReport(rows=rows, intersection_size=len(aligned), protocol=protocol))


def finish_feature_holder(
    ctx: PartyContext,
    star: Star,
    source: IdSource,
    rows: int,
    protocol: str,
    permutation: NDArray[np.int64] | None = None,
    read_ahead: bool = False,
) -> None:
    """Take the rows L selected; `permutation` maps the positions L names (the order F
    sent in; under rr22 the pairwise result's order, shorter than F's rows) to file rows.
    `read_ahead`: read the IDs of all of `permutation`'s rows while L works (rr22, where
    they are the pairwise intersection; under ecdh and rsa they would be every row)."""
    lh = star.label_holder
    bound = rows if permutation is None else len(permutation)
    # Under rr22 this party already knows the rows L can name (the pairwise result): it
    # reads their IDs while L reads and sorts its own, instead of after (~2.7 s of a
    # 2^20 run); L's selection then picks from them.
    candidates = source.select(permutation) if read_ahead and permutation is not None else None
    positions = rows_to_positions(recv_rows(ctx, lh, Selection, 8, limit=bound))
    if len(positions) and (positions.min() < 0 or positions.max() >= bound):
        raise ProtocolError(f"psi.Selection from {lh}: positions outside 0..{bound - 1}")
    if len(np.unique(positions)) != len(positions):
        raise ProtocolError(f"psi.Selection from {lh}: names a row twice")
    if candidates is None:
        ids = source.select(permutation[positions] if permutation is not None else positions)
    else:
        ids = [candidates[int(p)] for p in positions]
    if any(a >= b for a, b in itertools.pairwise(ids)):
        raise ProtocolError(
            f"psi.Selection from {lh}: rows are not in ascending ID order; the parties "
            "normalise IDs differently"
        )
    require_min_intersection(ctx, len(ids))
    ctx.workspace.save_alignment(ids)
    ctx.report(AlignReport(rows=rows, intersection_size=len(ids), protocol=protocol))


class ProgressMeter:
    """Reports align progress (group operations done / expected) without flooding."""

    def __init__(self, ctx: PartyContext, total: int) -> None:
        self._ctx = ctx
        self.total = max(total, 1)
        self.done = 0
        self._last = 0

    def grow(self, extra: int) -> None:
        self.total += extra

    def __call__(self, n: int) -> None:
        self.done += n
        if self.done - self._last >= self.total // 100 or self.done >= self.total:
            self._last = self.done
            self._ctx.report(Progress("align", min(self.done, self.total), self.total))
