"""Federation: every party, online or not, when it was last seen, its certificate's expiry
and the datasets it registered (names, columns, row counts; the store has no rows)."""

from __future__ import annotations

import time

import streamlit as st

from dashboard import render
from dashboard.admin.context import Admin
from dashboard.queries import federation
from vfl.errors import VflError


def show(admin: Admin) -> None:
    st.header("Federation")
    now = time.time()
    connected: set[str] | None
    try:
        client = admin.client()
        try:
            connected = {p.name for p in client.parties() if p.connected}
        finally:
            client.close()
    except VflError as exc:
        connected = None
        st.warning(f"Admin API unreachable ({exc}); online means seen in the last 30 s.")
    silence = admin.config.limits.session_silence_s
    parties = federation(admin.db, now, silence, connected, admin.certs)
    online = sum(p.online for p in parties)
    cols = st.columns(3)
    cols[0].metric("Parties", len(parties))
    cols[1].metric("Online", online)
    cols[2].metric("Datasets", sum(len(p.datasets) for p in parties))
    render.table(
        [
            {
                "party": p.name,
                "status": "online" if p.online else "offline",
                "last seen": render.ago(p.last_seen, now),
                "joined": render.when(p.first_seen),
                "certificate expires": p.certificate_expires.strftime("%Y-%m-%d")
                if p.certificate_expires
                else "not in the certificate folder",
                "datasets": len(p.datasets),
            }
            for p in parties
        ],
        key="parties",
    )
    st.subheader("Registered datasets")
    render.table(
        [
            {
                "party": p.name,
                "dataset": d.name,
                "rows": d.rows,
                "columns": len(d.columns),
                "column names": ", ".join(d.columns),
            }
            for p in parties
            for d in p.datasets
        ],
        key="datasets",
    )
