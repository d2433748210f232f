"""ECDH-PSI, a feature holder's side: blind, re-blind L's values, take the agreed rows."""

from __future__ import annotations

import numpy as np

from psi.checks import require_unique_ids
from psi.chunks import recv_rows, send_rows
from psi.ecdh.blinding import blind_ids, reblind
from psi.ecdh.messages import Blinded, ChainRequest, ChainResult, Reblinded
from psi.ids import IdSource
from psi.matching import KEY_BYTES
from psi.messages import Cardinality
from psi.parallel import GroupPool
from psi.replay import PsiRandomness
from psi.star import Star, default_source, finish_feature_holder, resume_feature_holder
from vfl.runtime.context import PartyContext
from vfl.runtime.events import AlignReport
from vfl.runtime.program import Program

PROTOCOL = "ecdh"


class EcdhFeatureHolder(Program):
    phase = "align"

    def __init__(self, source: IdSource | None = None, workers: int | None = None) -> None:
        self._source = source
        self._workers = workers

    def run(self, ctx: PartyContext) -> None:
        star = Star.of(ctx)
        lh = star.label_holder
        source = self._source or default_source(ctx)
        hint = source.size_hint()
        if resume_feature_holder(ctx, star, PROTOCOL, hint):
            return
        # Derived, not drawn: a restarted F must re-send exactly what it sent before.
        rand = PsiRandomness(ctx, PROTOCOL)
        key = rand.scalar("key")
        with GroupPool(self._workers) as pool:
            mine = blind_ids(pool, source, key)
            require_unique_ids(mine, source)
            rows = len(mine)
            # A shuffled order hides F's file order from L; F keeps the permutation.
            permutation = rand.permutation("order", rows)
            send_rows(ctx, lh, Blinded, mine, order=permutation)
            del mine
            if star.cardinality_only:
                for k, _ in enumerate(star.feature_holders):  # one vector per party lacking F's key
                    vector = recv_rows(ctx, lh, ChainRequest, 32)
                    out = reblind(pool, vector, key)
                    shuffle = rand.permutation(f"chain/{k}", len(out))
                    send_rows(ctx, lh, ChainResult, out[shuffle])
                count = ctx.recv(lh, Cardinality).count
                ctx.report(AlignReport(rows=rows, intersection_size=count, protocol=PROTOCOL))
                return
            theirs = recv_rows(ctx, lh, Blinded, 32)
            back = reblind(pool, theirs, key)
            send_rows(ctx, lh, Reblinded, np.ascontiguousarray(back[:, :KEY_BYTES]))
            del theirs, back  # 640 MB at 10^7 that the final pass over the IDs must not carry
        finish_feature_holder(ctx, star, source, rows, PROTOCOL, permutation)
