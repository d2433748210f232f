"""Plain, typed, read-only functions over what the dashboards show.

Pages only render: every number on a page comes from one of these functions, each tested
against a seeded store (tests/integration/dashboard/). They read the coordinator's store
(SQLite opened `mode=ro`, PostgreSQL in read-only transactions) and a party node's own
SQLite and workspace; nothing here writes. Long lists come back one `Page` at a time.
"""

from __future__ import annotations

from dashboard.queries.federation import PartyView, federation
from dashboard.queries.job_detail import (
    JobOverview,
    PartyBytes,
    PhaseBytes,
    PhaseSpan,
    bytes_per_party,
    bytes_per_phase,
    failure_line,
    job_overview,
    job_result,
    phase_timeline,
    step_losses,
)
from dashboard.queries.jobs import JobFilter, JobSummary, job_states, jobs_page
from dashboard.queries.logs import LogLine, job_logs, log_parties
from dashboard.queries.node_ledger import (
    LedgerJob,
    LedgerLine,
    ledger_jobs,
    ledger_lines,
    node_phases,
)
from dashboard.queries.node_models import LocalModel, local_models
from dashboard.queries.outbound import Outbound, outbound
from dashboard.queries.page import Page
from dashboard.queries.source import CoordinatorDb, NodeDb

__all__ = [
    "CoordinatorDb",
    "JobFilter",
    "JobOverview",
    "JobSummary",
    "LedgerJob",
    "LedgerLine",
    "LocalModel",
    "LogLine",
    "NodeDb",
    "Outbound",
    "Page",
    "PartyBytes",
    "PartyView",
    "PhaseBytes",
    "PhaseSpan",
    "bytes_per_party",
    "bytes_per_phase",
    "failure_line",
    "federation",
    "job_logs",
    "job_overview",
    "job_result",
    "job_states",
    "jobs_page",
    "ledger_jobs",
    "ledger_lines",
    "local_models",
    "log_parties",
    "node_phases",
    "outbound",
    "phase_timeline",
    "step_losses",
]
