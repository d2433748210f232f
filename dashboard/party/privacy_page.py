"""Privacy: ε spent per job when differential privacy was on, from the results of the
jobs this party took part in (the coordinator shows a party only its own jobs)."""

from __future__ import annotations

import json

import streamlit as st

from dashboard import render
from dashboard.party.context import Party
from vfl.config.phase_plan import TERMINAL
from vfl.errors import VflError

RECENT = 50


def show(party: Party) -> None:
    st.header("Privacy spent")
    rows = []
    try:
        client = party.client()
        try:
            for info in client.jobs(RECENT):
                if info.state not in TERMINAL:
                    continue
                result = json.loads(client.job(info.job_id).result_json or "{}")
                privacy = result.get("privacy") or {}
                for who, eps in (privacy.get("epsilon") or {}).items():
                    mechanism = "label-DP" if "@" not in who and who != "client_level" else who
                    rows.append(
                        {
                            "job": info.job_id,
                            "mechanism": mechanism,
                            "against": who,
                            "ε": f"{float(eps):.3f}",
                        }
                    )
        finally:
            client.close()
    except VflError as exc:
        st.error(f"vfl: error: {exc}")
        return
    st.caption(f"The last {RECENT} jobs; a job without DP spends no ε and is not listed.")
    render.table(rows, key="privacy")
