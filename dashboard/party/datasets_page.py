"""Datasets: what this party offers to jobs, with schema and row count (what the
coordinator is told), read from the data itself; never a row."""

from __future__ import annotations

import streamlit as st

from dashboard import render
from dashboard.party.context import Party
from parties.registered_data import describe
from vfl.errors import VflError


@st.cache_data(ttl=60, show_spinner="Counting rows…")
def _described(config_json: str) -> list[tuple[str, tuple[str, ...], int]]:
    from vfl.config.party_config import PartyConfig  # noqa: PLC0415 (cache key is the JSON)

    config = PartyConfig.model_validate_json(config_json)
    return [(d.name, tuple(d.columns), int(d.rows)) for d in describe(config)]


def show(party: Party) -> None:
    st.header("Datasets")
    st.caption("The coordinator learns each dataset's name, columns and row count, never a row.")
    try:
        found = _described(party.config.model_dump_json())
    except VflError as exc:
        st.error(f"vfl: error: {exc}")
        return
    kinds = {d.name: _kind(d.source) for d in party.config.datasets}
    render.table(
        [
            {
                "dataset": name,
                "source": kinds.get(name, "—"),
                "rows": rows,
                "columns": len(columns),
                "column names": ", ".join(columns),
            }
            for name, columns, rows in found
        ],
        key="datasets",
    )


def _kind(source: str) -> str:
    if "://" in source:
        return "SQL"
    return "Parquet" if source.endswith(".parquet") else "CSV"
