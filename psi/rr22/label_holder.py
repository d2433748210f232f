"""RR22 PSI, the label holder's side: spu's receiver with each feature holder in turn,
then the star's agreed rows as for ecdh (psi/star.py)."""

from __future__ import annotations

import os

from psi.checks import require_unique_ids
from psi.ids import IdSource
from psi.matching import match
from psi.rr22.feature_holder import PROTOCOL, their_size
from psi.rr22.keys import id_keys
from psi.rr22.messages import SetSize
from psi.rr22.native import require_fastpsi
from psi.rr22.session import ChannelLink, Session, run_session
from psi.star import Pairs, Star, default_source, finish_label_holder, resume_label_holder
from vfl.errors import ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.program import Program


class Rr22LabelHolder(Program):
    """The label holder's align program under `align.protocol = "rr22"`: one RR22 run per
    feature holder (one after the other), each giving the pairwise rows as key pairs."""

    phase = "align"

    def __init__(self, source: IdSource | None = None, workers: int | None = None) -> None:
        self._source = source  # spu picks its own threads: `workers` has no say here

    def run(self, ctx: PartyContext) -> None:
        fastpsi = require_fastpsi()
        star = Star.of(ctx)
        source = self._source or default_source(ctx)
        if resume_label_holder(ctx, star, PROTOCOL, source.size_hint()):
            return
        keys = id_keys(source)
        require_unique_ids(keys, source)
        pairs: dict[str, Pairs] = {}
        for f in star.feature_holders:
            ctx.send(f, SetSize(len(keys), os.urandom(16)))
        sizes = {f: their_size(ctx, f) for f in star.feature_holders}
        for f in star.feature_holders:
            link = ChannelLink(ctx, f, feature_holder=f)
            session = Session(link, f, 0, fastpsi, ctx.workspace.root, ctx.job.train.timeout_s)
            common = run_session(session, keys, limit=min(len(keys), sizes[f]))
            mine, at = match(keys, common)  # at: positions in the list both sides sorted
            if len(mine) != len(common):
                raise ProtocolError(
                    f"rr22 with {f}: the result holds {len(common) - len(mine)} keys this "
                    "party never had; a correct run never does"
                )
            pairs[f] = (mine, at)
        finish_label_holder(ctx, star, source, len(keys), pairs, PROTOCOL)
