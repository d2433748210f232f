"""The coordinator's scrape-time gauges over a real SQLite store: jobs by state with every
known state present, a state the code does not know folded into `other`, what the
mailboxes hold, and a store that cannot answer costs those gauges, not the scrape."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from coordinator.coordinator_metrics import CoordinatorMetrics
from coordinator.database import Database
from coordinator.mailbox import Mailbox, MailboxLimits
from coordinator.sessions import SessionRegistry
from coordinator.sql_store import SqlStore
from coordinator.store import Job, JobParty
from coordinator.tables import JobRow


def _gauges(metrics: CoordinatorMetrics) -> dict[tuple[str, str], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, s.labels.get("state", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _job(job_id: str, state: str) -> Job:
    party = JobParty("bank", "label_holder", True, 0, 0, None)
    return Job(job_id, "j", "vertical", "{}", "operator", state, None, 0.0, (party,))


def test_jobs_by_state_and_mailbox_depth_come_from_the_store(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    db.migrate()
    store = SqlStore(db)
    for i, state in enumerate(["train", "train", "succeeded", "P-00121"]):
        store.create_job(_job(f"job-{i}", state))
    Mailbox(db, MailboxLimits()).put("job-0", "bank", "lab", "split.X", "s1", b"12345")
    metrics = CoordinatorMetrics()
    metrics.watch(db, SessionRegistry())
    try:
        gauges = _gauges(metrics)
        assert gauges[("vfl_coordinator_store_up", "")] == 1
        assert gauges[("vfl_coordinator_jobs", "train")] == 2
        assert gauges[("vfl_coordinator_jobs", "succeeded")] == 1
        assert gauges[("vfl_coordinator_jobs", "cancelled")] == 0
        assert gauges[("vfl_coordinator_jobs", "other")] == 1  # not the stored string
        assert gauges[("vfl_coordinator_mailbox_messages", "")] == 1
        assert gauges[("vfl_coordinator_mailbox_bytes", "")] == 5
        with db.session() as s:
            s.execute(sa.delete(JobRow))
            s.execute(sa.text("DROP TABLE envelopes"))
        broken = _gauges(metrics)
        assert broken[("vfl_coordinator_store_up", "")] == 0
        assert ("vfl_coordinator_jobs", "train") not in broken
        assert broken[("vfl_coordinator_parties_connected", "")] == 0
    finally:
        db.close()
