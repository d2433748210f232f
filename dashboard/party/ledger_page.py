"""Ledger, "what left my silo": per job, every kind of message this party sent, to which
peer, how many, how many bytes, what the recipient can read of it and under which
protection, with totals."""

from __future__ import annotations

import streamlit as st

from dashboard import render
from dashboard.party.context import Party
from dashboard.queries import ledger_jobs, ledger_lines, node_phases
from vfl.cli.message_catalog import content
from vfl.errors import VflError
from vfl.units import size

PAGE_SIZE = 25


def show(party: Party) -> None:
    st.header("What left this silo")
    try:
        db = party.db
    except VflError as exc:
        st.warning(str(exc))
        return
    page = ledger_jobs(db, st.session_state.get("ledger-offset", 0), PAGE_SIZE)
    st.metric("Jobs this party sent messages in", page.total)
    render.table(
        [
            {
                "job": j.job_id,
                "messages": j.messages,
                "bytes": size(j.bytes),
                "to": ", ".join(j.peers),
                "first": render.when(j.first_at),
                "last": render.when(j.last_at),
            }
            for j in page.items
        ],
        key="ledger-jobs",
    )
    render.pager(page, "ledger-offset")
    if not page.items:
        return
    job_id = st.selectbox("Job", [j.job_id for j in page.items], key="ledger-job")
    lines = ledger_lines(db, job_id)
    cols = st.columns(3)
    cols[0].metric("Messages sent", sum(x.count for x in lines))
    cols[1].metric("Bytes sent", size(sum(x.bytes for x in lines)))
    cols[2].metric("Peers", len({x.peer for x in lines}))
    render.table(
        [
            {
                "message": x.kind,
                "to": x.peer,
                "count": x.count,
                "bytes": size(x.bytes),
                "readable": content(x.kind),
                "job protection": x.protection,
                "sealed with": x.sealing,
            }
            for x in lines
        ],
        key="ledger-lines",
    )
    phases = node_phases(db, job_id)
    if phases:
        st.caption("Phases this node ran: " + ", ".join(f"{p} {s}" for p, s, _ in phases))
