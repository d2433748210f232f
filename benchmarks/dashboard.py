"""Do the dashboards stay responsive with 10,000 jobs? A measurement, not a test.

Seeds a coordinator store (SQLite) with the four jobs of tests/dashboard_seed.py plus
`--jobs` more, then times (median of `--repeats`):
- the queries a page makes: the first and the last page of the jobs table, a state filter,
  a name filter, the per-state counts, and one job's page queries;
- a whole page run under Streamlit's AppTest (script run + every query + rendering to
  protobuf; the browser's own drawing is not included): jobs, federation and a job page.

    .venv/bin/python -m benchmarks.dashboard [--jobs 10000] [--repeats 5]

Writes benchmarks/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.testing.v1 import AppTest

from benchmarks.common import median_seconds, write_result
from dashboard.queries import (
    CoordinatorDb,
    JobFilter,
    job_logs,
    job_overview,
    job_result,
    job_states,
    jobs_page,
    phase_timeline,
    step_losses,
)
from dashboard.settings import ENV, DashboardSettings
from tests.dashboard_seed import seed_coordinator, seed_many_jobs

APP = Path(__file__).resolve().parents[1] / "dashboard" / "coordinator_app.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'coordinator.db'}"
        seeded = seed_coordinator(url)
        seed_many_jobs(url, args.jobs)
        db = CoordinatorDb(url)
        now = time.time()
        last = (args.jobs + 4) // 50 * 50
        job = job_overview(db, seeded.succeeded)
        assert job is not None
        queries: dict[str, Any] = {
            "jobs_first_page": lambda: jobs_page(db, now, JobFilter(), 0, 50),
            "jobs_last_page": lambda: jobs_page(db, now, JobFilter(), last, 50),
            "jobs_filter_state_failed": lambda: jobs_page(db, now, JobFilter(states=("failed",))),
            "jobs_filter_name": lambda: jobs_page(db, now, JobFilter(name_contains="horizontal")),
            "job_state_counts": lambda: job_states(db),
            "job_page_queries": lambda: (
                job_result(db, job),
                phase_timeline(db, job.id),
                step_losses(db, job.id),
                job_logs(db, job.id),
            ),
        }
        query_ms = {}
        for name, fn in queries.items():
            median, _ = median_seconds(fn, args.repeats)
            query_ms[name] = round(median * 1000, 2)
            print(f"{name:<28} {query_ms[name]:8.2f} ms")
        config = root / "coordinator.toml"
        config.write_text(f'listen = "127.0.0.1:1"\ndatabase = "{url}"\ninsecure = true\n')
        os.environ[ENV] = DashboardSettings(config=str(config)).to_env()
        st.cache_resource.clear()
        pages = {"jobs": None, "federation": None, "job": seeded.succeeded}
        page_ms = {}
        for page, job_id in pages.items():

            def run(page: str = page, job_id: str | None = job_id) -> None:
                at = AppTest.from_file(str(APP), default_timeout=120)
                at.query_params["page"] = page
                if job_id:
                    at.query_params["job"] = job_id
                at.run()
                assert not at.exception, [e.value for e in at.exception]

            median, _ = median_seconds(run, args.repeats)
            page_ms[page] = round(median * 1000, 1)
            print(f"page {page:<23} {page_ms[page]:8.1f} ms")
        db.close()
    path = write_result(
        "dashboard",
        {
            "jobs_in_store": args.jobs + 4,
            "repeats": args.repeats,
            "store": "sqlite",
            "query_median_ms": query_ms,
            "page_run_median_ms": page_ms,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
