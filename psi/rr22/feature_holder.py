"""RR22 PSI, a feature holder's side: spu's sender with L, then L's selection."""

from __future__ import annotations

import os

from psi.checks import require_unique_ids
from psi.chunks import MAX_ROWS
from psi.ids import IdSource
from psi.matching import match
from psi.rr22.keys import id_keys
from psi.rr22.messages import SetSize
from psi.rr22.native import require_fastpsi
from psi.rr22.session import ChannelLink, Session, run_session
from psi.star import Star, default_source, finish_feature_holder, resume_feature_holder
from vfl.errors import ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.program import Program

PROTOCOL = "rr22"


class Rr22FeatureHolder(Program):
    """A feature holder's align program under `align.protocol = "rr22"`: one RR22 run with
    the label holder; L's `psi.Selection` then names positions in the pairwise result
    (sorted by key), which this side maps to its own rows."""

    phase = "align"

    def __init__(self, source: IdSource | None = None, workers: int | None = None) -> None:
        self._source = source  # spu picks its own threads: `workers` has no say here

    def run(self, ctx: PartyContext) -> None:
        fastpsi = require_fastpsi()
        star = Star.of(ctx)
        lh = star.label_holder
        source = self._source or default_source(ctx)
        if resume_feature_holder(ctx, star, PROTOCOL, source.size_hint()):
            return
        keys = id_keys(source)
        require_unique_ids(keys, source)
        ctx.send(lh, SetSize(len(keys), os.urandom(16)))
        theirs = their_size(ctx, lh)
        link = ChannelLink(ctx, lh, feature_holder=ctx.party)
        session = Session(link, lh, 1, fastpsi, ctx.workspace.root, ctx.job.train.timeout_s)
        common = run_session(session, keys, limit=min(len(keys), theirs))
        at, own = match(common, keys)  # own[k]: this party's row of the k-th shared key
        if len(at) != len(common):
            raise ProtocolError(
                f"rr22 with {lh}: the result holds {len(common) - len(at)} keys this party "
                "never had; a correct run never does"
            )
        finish_feature_holder(
            ctx, star, source, len(keys), PROTOCOL, permutation=own, read_ahead=True
        )


def their_size(ctx: PartyContext, peer: str) -> int:
    rows = ctx.recv(peer, SetSize).rows
    if not 0 <= rows <= MAX_ROWS:
        raise ProtocolError(f"rr22.SetSize from {peer}: rows = {rows}, expected 0..{MAX_ROWS}")
    return rows
