"""One job: state and error in one line, phase timeline, loss and metric curves per epoch
or round, PSI overlap, bytes per party, privacy, and every party's log lines together.

Generic over modes: the page draws whatever the result folded from the job's events holds
(history rows, metric splits, align counts, ε), so a horizontal job's rounds and a
vertical job's epochs take the same code, and a later mode's page appears with its events.
While the job runs, the page refreshes itself.
"""

from __future__ import annotations

import time
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import render
from dashboard.admin.context import Admin
from dashboard.queries import (
    JobOverview,
    bytes_per_phase,
    failure_line,
    job_logs,
    job_overview,
    job_result,
    log_parties,
    phase_timeline,
    step_losses,
)
from vfl.config.phase_plan import JobState
from vfl.errors import VflError
from vfl.units import size

LOG_PAGE = 100
REFRESH_S = 2.0


def show(admin: Admin, job_id: str) -> None:
    job = job_overview(admin.db, job_id)
    if job is None:
        st.error(f"No job {job_id!r} in this coordinator's store.")
        return
    if job.ended:
        _body(admin, job.id, live=False)
    else:
        st.fragment(run_every=REFRESH_S)(_body)(admin, job.id, live=True)
    _logs(admin, job)


def _body(admin: Admin, job_id: str, live: bool) -> None:
    job = job_overview(admin.db, job_id)
    assert job is not None
    if live and job.ended:
        st.rerun(scope="app")  # it ended: draw the final page once and stop refreshing
    now = time.time()
    st.header(f"{job.name}")
    st.caption(
        f"job {job.id} · {job.mode} · submitted by {job.submitted_by} {render.when(job.created_at)}"
    )
    cols = st.columns(4)
    cols[0].metric("State", job.state)
    cols[1].metric(
        "Duration", render.duration((job.updated_at if job.ended else now) - job.created_at)
    )
    cols[2].metric("Parties", len(job.parties))
    cols[3].metric("Approved", f"{sum(p.approved for p in job.parties)}/{len(job.parties)}")
    line = failure_line(admin.db, job)
    if line:
        st.error(line)
    _actions(admin, job)
    result = job_result(admin.db, job)
    _timeline(admin, job, now)
    _curves(admin, job.id, result)
    _metrics(result)
    _roc_ks(result)
    _align(result)
    _bytes(admin, job)
    _privacy(result)


def _actions(admin: Admin, job: JobOverview) -> None:
    cols = st.columns([1, 1, 4])
    cancel = cols[0].button("Cancel job", key="cancel", disabled=job.ended)
    retry = cols[1].button("Retry failed phase", key="retry", disabled=job.state != JobState.FAILED)
    if not (cancel or retry):
        return
    try:
        client = admin.client()
        try:
            info = client.cancel(job.id) if cancel else client.resume(job.id)
        finally:
            client.close()
    except VflError as exc:
        st.error(f"vfl: error: {exc}")
        return
    st.success(f"{'Cancelled' if cancel else 'Resumed'}: state {info.state}")


def _timeline(admin: Admin, job: JobOverview, now: float) -> None:
    st.subheader("Phases")
    spans = phase_timeline(admin.db, job.id)
    if not spans:
        st.caption("No phase has started yet: the job waits for approvals.")
        return
    origin = spans[0].started_at
    rows = []
    for p in spans:
        end = p.finished_at if p.finished_at is not None else (job.updated_at if job.ended else now)
        rows.append({"phase": p.phase, "start_s": p.started_at - origin, "end_s": end - origin})
    frame = pd.DataFrame(rows)
    chart = (
        alt.Chart(frame, title="Phase timeline (seconds since the first phase started)")
        .mark_bar()
        .encode(
            x=alt.X("start_s:Q", title="seconds"),
            x2="end_s:Q",
            y=alt.Y("phase:N", sort=None, title=None),
            tooltip=["phase", "start_s", "end_s"],
        )
    )
    st.altair_chart(chart, width="stretch")
    render.table(
        [
            {
                "phase": p.phase,
                "started": render.when(p.started_at),
                "took": render.duration(p.finished_at - p.started_at)
                if p.finished_at is not None
                else "running"
                if not job.ended
                else "stopped",
                "progress": f"{p.progress:.0%}" if p.progress is not None else "—",
                **{party: _outcome(ok) for party, ok in p.outcomes},
            }
            for p in spans
        ],
        key="phases",
    )


def _outcome(ok: bool | None) -> str:
    return "running" if ok is None else "done" if ok else "FAILED"


def _curves(admin: Admin, job_id: str, result: dict[str, Any]) -> None:
    history: list[dict[str, float]] = result.get("history") or []
    if history:
        st.subheader("Loss and metrics per epoch or round")
        long = [
            {"epoch": row.get("epoch", i), "series": key, "value": value}
            for i, row in enumerate(history)
            for key, value in row.items()
            if key != "epoch" and isinstance(value, int | float)
        ]
        losses = [r for r in long if "loss" in str(r["series"])]
        others = [r for r in long if "loss" not in str(r["series"])]
        if losses:
            render.line_chart(pd.DataFrame(losses), "epoch", "Loss")
        if others:
            render.line_chart(pd.DataFrame(others), "epoch", "Metrics")
    steps = step_losses(admin.db, job_id)
    if steps:
        frame = pd.DataFrame(
            [
                {"step": i, "series": f"{party} batch loss", "value": loss}
                for i, (party, _, _, loss) in enumerate(steps)
            ]
        )
        render.line_chart(frame, "step", "Batch loss")


def _metrics(result: dict[str, Any]) -> None:
    metrics: dict[str, dict[str, float]] = result.get("metrics") or {}
    if not metrics:
        return
    st.subheader("Final metrics")
    for split, values in metrics.items():
        cols = st.columns(max(1, len(values)))
        for col, (name, value) in zip(cols, values.items(), strict=False):
            col.metric(f"{split} {name}", f"{value:.4f}")


def _roc_ks(result: dict[str, Any]) -> None:
    """ROC and KS curves per held-out split, when the label holder reported them (binary
    tasks with enough rows of each class; points at fixed score quantiles, vfl/curves.py)."""
    curves: dict[str, dict[str, Any]] = result.get("curves") or {}
    if not curves:
        return
    st.subheader("ROC and KS curves")
    for split, blocks in curves.items():
        cols = st.columns(2)
        roc, ks = blocks.get("roc") or {}, blocks.get("ks") or {}
        if roc.get("fpr"):
            with cols[0]:
                _roc_chart(split, roc)
        if ks.get("depth"):
            with cols[1]:
                _ks_chart(split, ks)


def _roc_chart(split: str, roc: dict[str, list[float]]) -> None:
    frame = pd.DataFrame(
        [
            {"fpr": f, "tpr": t, "series": "model"}
            for f, t in zip(roc["fpr"], roc["tpr"], strict=False)
        ]
        + [{"fpr": v, "tpr": v, "series": "chance"} for v in (0.0, 1.0)]
    )
    chart = (
        alt.Chart(frame, title=f"ROC, {split}")
        .mark_line(point=True)
        .encode(
            x=alt.X("fpr:Q", title="false positive rate", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("tpr:Q", title="true positive rate", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("series:N", title=None),
            order="fpr:Q",
            tooltip=[alt.Tooltip("fpr:Q", format=".3f"), alt.Tooltip("tpr:Q", format=".3f")],
        )
    )
    st.altair_chart(chart, width="stretch")


def _ks_chart(split: str, ks: dict[str, Any]) -> None:
    depth: list[float] = ks["depth"]
    frame = pd.DataFrame(
        [
            {"depth": d, "series": name, "value": v}
            for name, values in (
                ("positives (tpr)", ks.get("tpr") or []),
                ("negatives (fpr)", ks.get("fpr") or []),
            )
            for d, v in zip(depth, values, strict=False)
        ]
    )
    statistic = ks.get("ks")
    title = f"KS, {split}" + (f": {statistic:.3f}" if isinstance(statistic, int | float) else "")
    render.line_chart(frame, "depth", title)


def _align(result: dict[str, Any]) -> None:
    align: dict[str, Any] = result.get("align") or {}
    if not align:
        return
    st.subheader("Private set intersection")
    rows: dict[str, int] = align.get("party_rows") or {}
    shared = int(align.get("intersection_size", 0))
    cols = st.columns(2)
    cols[0].metric("Shared rows", shared)
    cols[1].metric("Protocol", str(align.get("protocol", "—")))
    frame = pd.DataFrame(
        [{"rows": n, "party": party, "kind": "own rows"} for party, n in rows.items()]
        + [{"rows": shared, "party": party, "kind": "shared"} for party in rows]
    )
    if not frame.empty:
        render.bar_chart(
            frame, "rows", "party", "kind", "Rows per party and overlap", stacked=False
        )


def _bytes(admin: Admin, job: JobOverview) -> None:
    st.subheader("Bytes per party")
    phases = bytes_per_phase(admin.db, job.id)
    frame = pd.DataFrame([{"bytes": b.sent, "party": b.party, "phase": b.phase} for b in phases])
    if not frame.empty and frame["bytes"].sum() > 0:
        render.bar_chart(frame, "bytes", "party", "phase", "Bytes sent per party, by phase")
        render.table(
            [
                {
                    "phase": b.phase,
                    "party": b.party,
                    "sent": size(b.sent),
                    "received": size(b.received),
                }
                for b in phases
            ],
            key="phase-bytes",
        )
    render.table(
        [
            {
                "party": p.party,
                "role": p.role,
                "approved": "yes" if p.approved else "no",
                "sent": size(p.sent),
                "received": size(p.received),
            }
            for p in job.parties
        ],
        key="bytes",
    )


def _privacy(result: dict[str, Any]) -> None:
    privacy: dict[str, Any] = result.get("privacy") or {}
    epsilon: dict[str, float] = privacy.get("epsilon") or {}
    if not epsilon:
        return
    st.subheader("Privacy spent")
    delta = (privacy.get("label_dp") or {}).get("delta")
    render.table(
        [
            {"against": who, "ε": f"{eps:.3f}", "δ": delta if delta is not None else "—"}
            for who, eps in epsilon.items()
        ],
        key="privacy",
    )


def _logs(admin: Admin, job: JobOverview) -> None:
    st.subheader("Logs of every party")
    parties = log_parties(admin.db, job.id)
    cols = st.columns([2, 2])
    chosen = cols[0].multiselect("Parties", parties, key="log-parties")
    contains = cols[1].text_input("Contains", key="log-text")
    key = "log-offset"
    if st.session_state.get("log-filter") != (tuple(chosen), contains):
        st.session_state["log-filter"] = (tuple(chosen), contains)
        st.session_state[key] = 0
    page = job_logs(admin.db, job.id, chosen, contains, st.session_state.get(key, 0), LOG_PAGE)
    render.table(
        [
            {"time": render.when(line.at), "party": line.party, "line": line.text}
            for line in page.items
        ],
        key="logs",
    )
    render.pager(page, key)
