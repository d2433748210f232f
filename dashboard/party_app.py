"""A party's own dashboard (`vfl dashboard party --config party.toml`).

Reads this node's SQLite and workspace read-only; approvals and results go through the
coordinator as this party, with its own certificate, as `vfl party approve` does.
"""

from __future__ import annotations

import streamlit as st

from dashboard.party import (
    approvals_page,
    datasets_page,
    ledger_page,
    models_page,
    privacy_page,
)
from dashboard.party.context import party

PAGES = {
    "approvals": ("Approvals", approvals_page.show),
    "ledger": ("What left this silo", ledger_page.show),
    "datasets": ("Datasets", datasets_page.show),
    "models": ("Models", models_page.show),
    "privacy": ("Privacy", privacy_page.show),
}


def main() -> None:
    handles = party()
    st.set_page_config(page_title=f"vfl · {handles.config.name}", layout="wide")
    current = st.query_params.get("page", "approvals")
    if current not in PAGES:
        current = "approvals"
    st.sidebar.title(f"vfl · {handles.config.name}")
    st.sidebar.caption(f"coordinator {handles.config.coordinator}")
    chosen = st.sidebar.radio(
        "Page",
        list(PAGES),
        index=list(PAGES).index(current),
        format_func=lambda k: PAGES[k][0],
        key=f"nav-{current}",
    )
    if chosen != current:
        st.query_params["page"] = chosen
        st.rerun()
    PAGES[chosen][1](handles)


main()
