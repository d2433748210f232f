"""RSA-PSI, the label holder's side: sign for smaller feature holders, be the client of
larger ones, then decide the rows every party shares."""

from __future__ import annotations

import numpy as np

from psi.chunks import recv_rows
from psi.ids import IdSource
from psi.parallel import GroupPool
from psi.replay import PsiRandomness
from psi.rsa.key_store import job_key
from psi.rsa.messages import Matches, SetSize
from psi.rsa.rounds import client_round, recv_size, signer_round, signer_tags
from psi.star import Pairs, Star, default_source, finish_label_holder, resume_label_holder
from vfl.config.job_spec import align_roles
from vfl.errors import ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.program import Program

PROTOCOL = "rsa"


class RsaLabelHolder(Program):
    """The label holder's align program under `align.protocol = "rsa"`; its signing key
    has the spec's `align.key_bits`."""

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
        for f in star.feature_holders:
            ctx.send(f, SetSize(hint))
        sizes = {f: recv_size(ctx, f) for f in star.feature_holders}
        signs = [f for f in star.feature_holders if hint >= sizes[f]]  # the larger side signs
        pairs: dict[str, Pairs] = {}
        rows = hint
        rand = PsiRandomness(ctx, PROTOCOL)  # replayable: see psi/replay.py
        with GroupPool(self._workers) as pool:
            if signs:
                key = job_key(ctx.workspace, ctx.job_id, align_roles(ctx.job).align.key_bits)
                tags = signer_tags(pool, source, key)
                rows = len(tags)
                permutation = rand.permutation("order", rows)
                shuffled = tags[permutation]
            for f in star.feature_holders:
                if f in signs:
                    signer_round(ctx, f, pool, key, shuffled, sizes[f])
                    pairs[f] = _reported(ctx, f, permutation)
                else:
                    mine, theirs, rows = client_round(ctx, f, pool, source, rand, hint)
                    pairs[f] = (mine, theirs)
        finish_label_holder(ctx, star, source, rows, pairs, PROTOCOL)


def _reported(ctx: PartyContext, f: str, permutation: np.ndarray) -> Pairs:
    """The client F's Matches, mapped from L's shuffled order back to L's own order."""
    n = len(permutation)
    pairs = np.ascontiguousarray(recv_rows(ctx, f, Matches, 16, limit=n)).view("<i8")
    mine, theirs = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    if len(mine) and (mine.min() < 0 or mine.max() >= n or theirs.min() < 0):
        raise ProtocolError(f"rsa.Matches from {f}: positions out of range")
    if len(np.unique(mine)) != len(mine) or len(np.unique(theirs)) != len(theirs):
        raise ProtocolError(f"rsa.Matches from {f}: names a row twice")
    own = permutation[mine].astype(np.int64)
    order = np.argsort(own)
    return own[order], theirs[order]
