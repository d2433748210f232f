"""Models: the model parts this party holds, per job (description only, never weights)."""

from __future__ import annotations

import streamlit as st

from dashboard import render
from dashboard.party.context import Party
from dashboard.queries import local_models
from vfl.units import size


def show(party: Party) -> None:
    st.header("Models held here")
    page = local_models(party.config.state_dir, st.session_state.get("models-offset", 0), 25)
    render.table(
        [
            {
                "job": m.job_id,
                "written": render.when(m.written_at),
                "size": size(m.bytes),
                "features": m.features,
                **m.description,
            }
            for m in page.items
        ],
        key="models",
    )
    render.pager(page, "models-offset")
