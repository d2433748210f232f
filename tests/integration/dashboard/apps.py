"""Running the dashboards under Streamlit's AppTest against seeded stores, with the admin
API replaced by a recording fake (the real one is exercised by the browser test)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.settings import ENV, DashboardSettings
from tests.dashboard_seed import SPEC, Seeded, SeededNode, seed_coordinator, seed_party
from vfl.config.loading import parse_job, parse_toml
from vfl.errors import PeerUnavailableError
from vfl.protocol.v1 import coordinator_pb2 as pb

APPS = Path(__file__).resolve().parents[3] / "dashboard"
ADMIN_PAGES = ("jobs", "federation", "submit")
PARTY_PAGES = ("approvals", "ledger", "datasets", "models", "privacy")


@dataclass
class FakeClient:
    """The admin API as the pages call it: records actions, answers from `jobs`."""

    jobs_listed: list[pb.JobInfo] = field(default_factory=list)
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def parties(self) -> list[pb.PartyInfo]:
        raise PeerUnavailableError("coordinator unreachable: test")

    def submit(self, spec_toml: str) -> str:
        # the coordinator's own validation (JobLifecycle.submit): same errors, same source
        spec = parse_job(parse_toml(spec_toml, "job spec"), source="job spec")
        self.calls.append(("submit", spec.job.name))
        return f"{spec.job.name}-00000001"

    def jobs(self, limit: int = 100) -> list[pb.JobInfo]:
        return self.jobs_listed[:limit]

    def job(self, job_id: str) -> pb.JobInfo:
        result = {"privacy": {"epsilon": {"lab": 0.93}}}
        spec = self.specs.get(job_id, SPEC)
        return pb.JobInfo(
            job_id=job_id,
            spec_json=json.dumps(spec),
            submitted_by="operator",
            state="succeeded",
            result_json=json.dumps(result),
        )

    def _act(self, what: str, job_id: str, state: str) -> pb.JobInfo:
        self.calls.append((what, job_id))
        return pb.JobInfo(job_id=job_id, state=state)

    def cancel(self, job_id: str) -> pb.JobInfo:
        return self._act("cancel", job_id, "cancelled")

    def resume(self, job_id: str) -> pb.JobInfo:
        return self._act("resume", job_id, "train")

    def approve(self, job_id: str) -> pb.JobInfo:
        return self._act("approve", job_id, "pending")

    def decline(self, job_id: str, reason: str) -> pb.JobInfo:
        return self._act(f"decline: {reason}", job_id, "failed")

    def close(self) -> None:
        return None


@dataclass
class AdminApp:
    seeded: Seeded
    client: FakeClient

    def page(self, page: str, job: str | None = None) -> AppTest:
        at = AppTest.from_file(str(APPS / "coordinator_app.py"), default_timeout=60)
        at.query_params["page"] = page
        if job is not None:
            at.query_params["job"] = job
        return at.run()


@dataclass
class PartyApp:
    node: SeededNode
    client: FakeClient

    def page(self, page: str) -> AppTest:
        at = AppTest.from_file(str(APPS / "party_app.py"), default_timeout=60)
        at.query_params["page"] = page
        return at.run()


def admin_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AdminApp:
    url = f"sqlite:///{tmp_path / 'coordinator.db'}"
    seeded = seed_coordinator(url)
    config = tmp_path / "coordinator.toml"
    config.write_text(f'listen = "127.0.0.1:1"\ndatabase = "{url}"\ninsecure = true\n')
    monkeypatch.setenv(ENV, DashboardSettings(config=str(config)).to_env())
    client = FakeClient()
    monkeypatch.setattr("dashboard.admin.context.make_client", lambda _: client)
    st.cache_resource.clear()
    st.cache_data.clear()
    return AdminApp(seeded, client)


def party_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PartyApp:
    node = seed_party(tmp_path / "hospital")
    monkeypatch.setenv(ENV, DashboardSettings(config=str(node.config)).to_env())
    pending = pb.JobInfo(
        job_id="breast-vertical-0000cccc",
        name="breast-vertical",
        state="pending",
        parties=[pb.JobParty(name="hospital", role="label_holder", approved=False)],
    )
    done = pb.JobInfo(job_id=node.job_id, name="breast-vertical", state="succeeded")
    client = FakeClient(jobs_listed=[pending, done])
    monkeypatch.setattr("dashboard.party.context.make_client", lambda _: client)
    st.cache_resource.clear()
    st.cache_data.clear()
    return PartyApp(node, client)


def rendered(at: AppTest) -> str:
    """Everything the page sent to the browser: every element's message, tables (Arrow)
    and charts (Vega-Lite specs with their data) included."""
    out: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
            out.append(proto.SerializeToString().decode("latin-1"))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


Check = Callable[[AppTest], None]


def table(at: AppTest, column: str, nth: int = 0) -> Any:
    """The `nth` table on the page that has `column` (AppTest does not expose table keys)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) > nth, f"no table with column {column!r}"
    return found[nth]
