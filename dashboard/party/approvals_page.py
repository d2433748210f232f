"""Approvals: each pending job with its spec, what would leave this silo (derived from the
spec: which messages, to whom, under which protection) and the party.toml [policy] check;
the operator approves or refuses through the node's approval path."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import render
from dashboard.party.context import Party
from dashboard.queries import outbound
from parties.approval import approve, job_spec, refuse
from vfl.config.job_spec import JobSpec
from vfl.config.phase_plan import JobState
from vfl.errors import VflError


def show(party: Party) -> None:
    st.header("Approvals")
    name = party.config.name
    try:
        client = party.client()
    except VflError as exc:
        st.error(f"vfl: error: {exc}")
        return
    try:
        pending = [
            j
            for j in client.jobs(200)
            if j.state == JobState.PENDING
            and any(p.name == name and not p.approved for p in j.parties)
        ]
        if party.config.auto_approve:
            st.info("auto_approve = true: this node approves every job inside its [policy].")
        if not pending:
            st.success("No job waits for this party's approval.")
            return
        for info in pending:
            _one(party, client, info.job_id)
    except VflError as exc:
        st.error(f"vfl: error: {exc}")
    finally:
        client.close()


def _one(party: Party, client: Any, job_id: str) -> None:
    info, spec = job_spec(client, job_id)
    me = spec.party(party.config.name)
    with st.container(border=True):
        st.subheader(f"{spec.job.name}")
        st.caption(
            f"job {job_id} · {spec.job.mode} · submitted by {info.submitted_by} · "
            f"this party: {me.role}, dataset {me.data!r}"
        )
        render.table(_summary(spec), key=f"summary-{job_id}")
        st.markdown("**What will leave this silo**")
        render.table(
            [
                {
                    "phase": o.phase,
                    "message": o.kind,
                    "to": ", ".join(o.to),
                    "carries": o.carries,
                    "protection": o.protection,
                }
                for o in outbound(spec, party.config.name)
            ],
            key=f"out-{job_id}",
        )
        refusal = party.config.policy.refusal(spec, job_id, party.config.name)
        if refusal is None:
            st.success("party.toml [policy]: accepted")
        else:
            st.error(f"party.toml [policy]: {refusal.line}")
        with st.expander("Job spec"):
            st.json(spec.model_dump(mode="json"), expanded=False)
        cols = st.columns([1, 3, 1])
        if cols[0].button(
            "Approve", key=f"approve-{job_id}", type="primary", disabled=refusal is not None
        ):
            _act(lambda: approve(party.config, client, job_id), "approved")
        reason = cols[1].text_input("Reason to refuse", key=f"reason-{job_id}")
        if cols[2].button("Refuse", key=f"refuse-{job_id}"):
            _act(
                lambda: refuse(client, job_id, reason or (refusal.line if refusal else "")),
                "refused",
            )


def _act(action: Any, what: str) -> None:
    try:
        info = action()
    except VflError as exc:
        st.error(f"vfl: error: {exc}")
        return
    st.success(f"job {info.job_id}: {what}; state {info.state}")


def _summary(spec: JobSpec) -> list[dict[str, str]]:
    rows = [{"item": "parties", "value": ", ".join(f"{p.name} ({p.role})" for p in spec.parties)}]
    for section in ("align", "train", "privacy"):
        value = getattr(spec, section, None)
        if value is None:
            continue
        for key, v in value.model_dump(mode="json").items():
            if v is not None and not isinstance(v, dict | list):
                rows.append({"item": f"{section}.{key}", "value": str(v)})
    return rows
