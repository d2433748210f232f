"""RSA-PSI, a feature holder's side: client of a larger label holder, signer otherwise."""

from __future__ import annotations

import numpy as np

from psi.chunks import send_rows
from psi.ids import IdSource
from psi.parallel import GroupPool
from psi.replay import PsiRandomness
from psi.rsa.key_store import job_key
from psi.rsa.messages import Matches, SetSize
from psi.rsa.rounds import client_round, recv_size, signer_round, signer_tags
from psi.star import Star, default_source, finish_feature_holder, resume_feature_holder
from vfl.config.job_spec import align_roles
from vfl.runtime.context import PartyContext
from vfl.runtime.program import Program

PROTOCOL = "rsa"


class RsaFeatureHolder(Program):
    """A feature holder's align program under `align.protocol = "rsa"`; when it signs, its
    key has the spec's `align.key_bits`."""

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
        ctx.send(lh, SetSize(hint))
        theirs_declared = recv_size(ctx, lh)
        label_holder_signs = theirs_declared >= hint
        rand = PsiRandomness(ctx, PROTOCOL)  # replayable: see psi/replay.py
        with GroupPool(self._workers) as pool:
            if label_holder_signs:
                mine, theirs, rows = client_round(ctx, lh, pool, source, rand, hint)
                # Report F's rows in a shuffled order so L does not learn F's file order.
                permutation = rand.permutation("order", rows)
                shuffled_at = np.argsort(permutation)[mine]
                pairs = np.stack([theirs, shuffled_at], axis=1).astype("<i8")
                send_rows(ctx, lh, Matches, np.ascontiguousarray(pairs).view(np.uint8))
            else:
                key = job_key(ctx.workspace, ctx.job_id, align_roles(ctx.job).align.key_bits)
                tags = signer_tags(pool, source, key)
                rows = len(tags)
                permutation = rand.permutation("order", rows)
                signer_round(ctx, lh, pool, key, tags[permutation], theirs_declared)
        finish_feature_holder(ctx, star, source, rows, PROTOCOL, permutation)
