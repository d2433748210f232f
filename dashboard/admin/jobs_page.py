"""Jobs: a filterable, paginated table (mode, state, phase, progress, duration, approvals);
one click opens a job's page."""

from __future__ import annotations

import time

import streamlit as st

from dashboard import render
from dashboard.admin.context import Admin
from dashboard.queries import JobFilter, job_states, jobs_page
from vfl.config.phase_plan import JobState, Mode

PAGE_SIZE = 50


def show(admin: Admin) -> None:
    st.header("Jobs")
    counts = job_states(admin.db)
    cols = st.columns(4)
    cols[0].metric("Jobs", sum(counts.values()))
    running = sum(n for s, n in counts.items() if s in ("align", "train", "evaluate"))
    cols[1].metric("Running", running)
    cols[2].metric("Awaiting approval", counts.get(JobState.PENDING, 0))
    cols[3].metric("Failed", counts.get(JobState.FAILED, 0))
    with st.expander("Filter", expanded=False):
        states = st.multiselect("State", [s.value for s in JobState], key="f-states")
        modes = st.multiselect("Mode", [m.value for m in Mode], key="f-modes")
        name = st.text_input("Name contains", key="f-name")
        party = st.text_input("Party", key="f-party")
    flt = JobFilter(tuple(states), tuple(modes), name.strip(), party.strip() or None)
    if st.session_state.get("jobs-filter") != flt:
        st.session_state["jobs-filter"] = flt
        st.session_state["jobs-offset"] = 0
    now = time.time()
    page = jobs_page(admin.db, now, flt, st.session_state.get("jobs-offset", 0), PAGE_SIZE)
    render.table(
        [
            {
                "job": j.id,
                "name": j.name,
                "mode": j.mode,
                "state": j.state,
                "phase": j.phase or "—",
                "progress": f"{j.progress:.0%}" if j.progress is not None else "—",
                "submitted": render.when(j.created_at),
                "duration": render.duration(j.duration_s),
                "approved by": ", ".join(j.approved) or "—",
                "waiting for": ", ".join(j.waiting_for) or "—",
            }
            for j in page.items
        ],
        key="jobs",
    )
    render.pager(page, "jobs-offset")
    if page.items:
        chosen = st.selectbox("Open a job", [j.id for j in page.items], key="open-job")
        if st.button("Open job page", key="open"):
            st.query_params["page"] = "job"
            st.query_params["job"] = chosen
            st.rerun()
