"""Both roles of the plain join; each is a few lines, so they share one file."""

from __future__ import annotations

from psi.checks import require_min_intersection
from psi.join.messages import IdList, Intersection
from vfl.config.job_spec import align_roles
from vfl.errors import ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.events import AlignReport
from vfl.runtime.program import Program


class JoinLabelHolder(Program):
    phase = "align"

    def run(self, ctx: PartyContext) -> None:
        data = ctx.require_data()
        shared = set(data.ids)
        for peer in align_roles(ctx.job).others:
            shared &= set(ctx.recv(peer, IdList).ids)
        ordered = tuple(sorted(shared))
        for peer in align_roles(ctx.job).others:
            ctx.send(peer, Intersection(ordered))
        require_min_intersection(ctx, len(ordered))
        ctx.workspace.save_alignment(ordered)
        ctx.report(AlignReport(rows=data.rows, intersection_size=len(ordered), protocol="join"))


class JoinFeatureHolder(Program):
    phase = "align"

    def run(self, ctx: PartyContext) -> None:
        data = ctx.require_data()
        label_holder = align_roles(ctx.job).centre
        ctx.send(label_holder, IdList(data.ids))
        ordered = ctx.recv(label_holder, Intersection).ids
        if not set(ordered) <= set(data.ids):
            raise ProtocolError(
                f"join.Intersection from {label_holder}: names IDs this party never sent"
            )
        require_min_intersection(ctx, len(ordered))
        ctx.workspace.save_alignment(ordered)
        ctx.report(AlignReport(rows=data.rows, intersection_size=len(ordered), protocol="join"))
