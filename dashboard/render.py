"""Formatting and charts shared by the pages: words and numbers a person reads at a glance.

Pages never print a stored value they did not choose to show: every table they draw is
built here from a query's typed result, column by column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.queries import Page


def when(ts: float | None) -> str:
    if ts is None or ts <= 0:
        return "—"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def ago(ts: float, now: float) -> str:
    return f"{duration(max(0.0, now - ts))} ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def table(rows: Sequence[dict[str, Any]], key: str | None = None) -> None:
    """A read-only table of already chosen columns."""
    if not rows:
        st.caption("Nothing to show.")
        return
    st.dataframe(pd.DataFrame(list(rows)), hide_index=True, width="stretch", key=key)


def pager(page: Page[Any], key: str) -> None:
    """Previous / next controls for a page kept in session state under `key`."""
    first = page.offset + 1 if page.items else 0
    cols = st.columns([1, 1, 4])
    if cols[0].button("Previous", key=f"{key}-prev", disabled=page.offset == 0):
        st.session_state[key] = max(0, page.offset - page.limit)
        st.rerun()
    if cols[1].button("Next", key=f"{key}-next", disabled=not page.has_next):
        st.session_state[key] = page.offset + page.limit
        st.rerun()
    cols[2].caption(f"{first}–{page.offset + len(page.items)} of {page.total}")


def line_chart(frame: pd.DataFrame, x: str, title: str) -> None:
    """One line per series of a long frame (x, series, value)."""
    chart = (
        alt.Chart(frame, title=title)
        .mark_line(point=len(frame) <= 200)
        .encode(
            x=alt.X(f"{x}:Q", title=x),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("series:N", title=None),
            tooltip=[x, "series", alt.Tooltip("value:Q", format=".4f")],
        )
    )
    st.altair_chart(chart, width="stretch")


def bar_chart(
    frame: pd.DataFrame, x: str, y: str, color: str, title: str, stacked: bool = True
) -> None:
    """Bars per `y`, one colour per `color`: stacked when the parts add up to a whole
    (bytes per phase), side by side when they do not (a party's rows and the overlap)."""
    encoding: dict[str, Any] = {
        "x": alt.X(f"{x}:Q", title=x, stack="zero" if stacked else None),
        "y": alt.Y(f"{y}:N", title=None),
        "color": alt.Color(f"{color}:N", title=None),
        "tooltip": [y, color, x],
    }
    if not stacked:
        encoding["yOffset"] = alt.YOffset(f"{color}:N")
    chart = alt.Chart(frame, title=title).mark_bar().encode(**encoding)
    st.altair_chart(chart, width="stretch")
