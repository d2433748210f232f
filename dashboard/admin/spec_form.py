"""A job spec from a form: the federation's registered parties and datasets to pick from,
the few knobs most jobs change, and the TOML it makes (shown, then submitted as any spec,
so its errors are the CLI's too)."""

from __future__ import annotations

import json
import time

import streamlit as st

from dashboard.admin.context import Admin
from dashboard.queries import federation
from vfl.config.phase_plan import PLANS, Mode

NOT_IN_JOB = "—"


def spec_form(admin: Admin) -> str | None:
    """The TOML the form describes, or None until it names at least one party."""
    parties = federation(admin.db, time.time())
    name = st.text_input("Job name", "my-job", key="form-name")
    mode = st.selectbox("Mode", [Mode.VERTICAL.value, Mode.HORIZONTAL.value], key="form-mode")
    roles = [NOT_IN_JOB, *PLANS[Mode(mode)].roles]
    blocks = []
    for party in parties:
        if not party.datasets:
            continue
        cols = st.columns(4)
        role = cols[0].selectbox(party.name, roles, key=f"form-role-{party.name}")
        if role == NOT_IN_JOB:
            continue
        by_name = {d.name: d for d in party.datasets}
        data = cols[1].selectbox("dataset", list(by_name), key=f"form-data-{party.name}")
        columns = list(by_name[data].columns)
        id_column = cols[2].selectbox("ID column", columns, key=f"form-id-{party.name}")
        lines = [
            "[[parties]]",
            f"name = {json.dumps(party.name)}",
            f"role = {json.dumps(role)}",
            f"data = {json.dumps(data)}",
            f"id_column = {json.dumps(id_column)}",
        ]
        if role in ("label_holder", "sample_holder"):
            label = cols[3].selectbox("label column", columns, key=f"form-label-{party.name}")
            lines.append(f"label_column = {json.dumps(label)}")
        blocks.append("\n".join(lines))
    if not blocks:
        st.caption("Give at least one party a role.")
        return None
    train = ["[train]"]
    if mode == Mode.VERTICAL:
        epochs = st.number_input("Epochs", 1, 1000, 10, key="form-epochs")
        protection = st.selectbox("Protection", ["paillier", "none"], key="form-protection")
        train += [f"epochs = {int(epochs)}", f"protection = {json.dumps(protection)}"]
    else:
        rounds = st.number_input("Rounds", 1, 10_000, 20, key="form-rounds")
        train.append(f"rounds = {int(rounds)}")
    head = f"[job]\nname = {json.dumps(name)}\nmode = {json.dumps(mode)}"
    return "\n\n".join([head, *blocks, "\n".join(train)]) + "\n"
