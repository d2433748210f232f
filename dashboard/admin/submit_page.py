"""Submit: upload a job spec or paste one; the coordinator validates it, and its error is
shown exactly as `vfl job submit` prints it (`vfl: error: ...`, one line)."""

from __future__ import annotations

import streamlit as st

from dashboard.admin.context import Admin
from dashboard.admin.spec_form import spec_form
from vfl.errors import VflError

TEMPLATE = """[job]
name = "my-job"
mode = "vertical"

[[parties]]
name = "hospital"
role = "label_holder"
data = "data"
id_column = "patient_id"
label_column = "diagnosis"

[[parties]]
name = "lab"
role = "feature_holder"
data = "data"
id_column = "patient_id"
"""


def show(admin: Admin) -> None:
    st.header("Submit a job")
    from_file, from_form = st.tabs(["Upload or paste", "Fill a form"])
    with from_file:
        upload = st.file_uploader("Job spec (TOML)", type=["toml"], key="spec-file")
        if upload is not None:
            text = upload.getvalue().decode(errors="replace")
            st.caption(f"{upload.name}: {len(text)} characters")
        else:
            text = st.text_area("…or paste it", TEMPLATE, height=360, key="spec-text")
        if st.button("Submit", type="primary", key="submit"):
            _submit(admin, text)
    with from_form:
        made = spec_form(admin)
        if made is not None:
            st.code(made, language="toml")
            if st.button("Submit this spec", key="submit-form"):
                _submit(admin, made)
    submitted = st.session_state.get("submitted")
    if submitted and st.button("Open its job page", key="open-submitted"):
        st.query_params["page"] = "job"
        st.query_params["job"] = submitted
        st.rerun()


def _submit(admin: Admin, text: str) -> None:
    try:
        client = admin.client()
        try:
            job_id = client.submit(text)
        finally:
            client.close()
    except VflError as exc:
        for line in str(exc).splitlines() or [""]:
            st.error(f"vfl: error: {line}")
        return
    st.success(f"Submitted {job_id}; it waits for every party's approval.")
    st.session_state["submitted"] = job_id
