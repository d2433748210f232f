"""The coordinator admin dashboard (`vfl dashboard coordinator --config coordinator.toml`).

Reads the coordinator's store read-only and acts (submit, cancel, retry) only through the
admin API with the operator certificate. The page is picked by the `page` query parameter
so a job's page has an address an operator can share (`?page=job&job=ID`).
"""

from __future__ import annotations

import streamlit as st

from dashboard.admin import federation_page, job_page, jobs_page, submit_page
from dashboard.admin.context import admin

PAGES = {"federation": "Federation", "jobs": "Jobs", "submit": "Submit", "job": "Job"}


def main() -> None:
    st.set_page_config(page_title="vfl coordinator", layout="wide")
    handles = admin()
    current = st.query_params.get("page", "jobs")
    if current not in PAGES:
        current = "jobs"
    st.sidebar.title("vfl · coordinator")
    st.sidebar.caption(f"store: read-only · acting as {handles.settings.identity}")
    chosen = st.sidebar.radio(
        "Page",
        list(PAGES),
        index=list(PAGES).index(current),
        format_func=PAGES.__getitem__,
        key=f"nav-{current}",
    )
    if chosen != current:
        st.query_params["page"] = chosen
        st.rerun()
    if chosen == "federation":
        federation_page.show(handles)
    elif chosen == "submit":
        submit_page.show(handles)
    elif chosen == "job":
        job_id = st.query_params.get("job") or st.sidebar.text_input("Job", key="job-id")
        if job_id:
            job_page.show(handles, job_id)
        else:
            st.info("Pick a job on the Jobs page.")
    else:
        jobs_page.show(handles)


main()
