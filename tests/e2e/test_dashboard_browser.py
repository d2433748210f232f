"""The dashboards in a real browser against a real deployment: headless Chromium (Debian's
package) drives the coordinator admin view and both parties' views while a coordinator
and two party nodes run as processes, exactly as an operator would click through it.

Submit the sample job in the admin view (a bad spec first: its error is the CLI's line),
approve it in each party's view (neither node auto-approves), and wait for `succeeded` on
the job page. Screenshots land in the test's folder (and in $VFL_SCREENSHOTS if set).
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.deployment import SAMPLES, vfl

webdriver = pytest.importorskip("selenium.webdriver")

from dashboard.queries import NodeDb, ledger_lines, outbound  # noqa: E402
from tests.e2e.browser import (  # noqa: E402 (after the skip: selenium is a dev extra)
    CHROMEDRIVER,
    CHROMIUM,
    Dashboard,
    button,
    chromium,
    settle,
    wait_for,
    wait_text,
)
from vfl.cli.local_federation import LocalFederation  # noqa: E402
from vfl.config.loading import parse_job  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
]


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[LocalFederation]:
    fed = LocalFederation(tmp_path / "fed", SAMPLES / "breast" / "job.toml", auto_approve=False)
    try:
        fed.start()
        fed.wait_connected()
        yield fed
    finally:
        fed.stop()


def _shot(driver: object, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    extra = os.environ.get("VFL_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)


def test_submit_approve_and_follow_a_job_in_the_browser(
    fed: LocalFederation, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    good = fed.job_spec(epochs=3)
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("epochs = 3", "epochs = -3"))
    cli = vfl("job", "submit", str(bad), *fed.cli_args())
    assert cli.returncode == 2
    cli_line = cli.stderr.strip().splitlines()[-1]

    admin = Dashboard(
        [
            "coordinator",
            "--config",
            str(fed.root / "coordinator.toml"),
            "--coordinator",
            fed.address,
            "--certs",
            str(fed.root / "certs"),
        ],
        tmp_path / "admin-dashboard.log",
    )
    views = {
        name: Dashboard(
            ["party", "--config", str(fed.root / name / "party.toml")],
            tmp_path / f"{name}-dashboard.log",
        )
        for name in fed.parties
    }
    driver = chromium()
    try:
        for d in (admin, *views.values()):
            d.wait_ready()
        driver.get(f"{admin.url}/?page=federation")
        wait_text(driver, "Registered datasets")
        wait_text(driver, "Online\n2")  # tables are drawn on a canvas: read the headline
        wait_for(driver, "canvas")
        settle(driver)
        _shot(driver, shots, "federation")

        driver.get(f"{admin.url}/?page=submit")
        wait_text(driver, "Submit a job")
        upload = wait_for(driver, "input[type='file']")
        upload.send_keys(str(bad))
        wait_text(driver, "bad.toml")
        button(driver, "Submit").click()
        body = wait_text(driver, "vfl: error:")
        assert cli_line in body, (cli_line, body)
        _shot(driver, shots, "submit-error")
        driver.get(f"{admin.url}/?page=submit")  # a fresh session: no file uploaded
        wait_text(driver, "Submit a job")
        upload = wait_for(driver, "input[type='file']")
        upload.send_keys(str(good))
        wait_text(driver, "job.toml")
        settle(driver)
        button(driver, "Submit").click()
        body = wait_text(driver, "it waits for every party's approval")
        match = re.search(r"Submitted (\S+);", body)
        assert match, body
        job_id = match.group(1)

        for name, view in views.items():
            driver.get(f"{view.url}/?page=approvals")
            body = wait_text(driver, "party.toml [policy]: accepted")
            assert job_id in body and "What will leave this silo" in body
            approve = button(driver, "Approve")
            settle(driver)
            _shot(driver, shots, f"approval-{name}")
            approve.click()
            wait_text(driver, f"job {job_id}: approved")

        driver.get(f"{admin.url}/?page=job&job={job_id}")
        wait_text(driver, "Logs of every party")
        wait_text(driver, "succeeded", limit_s=300)
        # Streamlit draws the page top to bottom: "succeeded" can show before the sections
        # below it (seen in CI under load), so each is waited for, not read from one frame.
        wait_text(driver, "Private set intersection")
        wait_text(driver, "Bytes per party")
        wait_text(driver, "Final metrics")
        driver.set_window_size(1400, 4000)  # the whole page, for docs/dashboard-job.png
        wait_text(driver, "Logs of every party")
        settle(driver)
        _shot(driver, shots, "job")

        driver.get(f"{views['lab'].url}/?page=ledger")
        # the page renders top to bottom: wait for the table's last column, not its first
        body = wait_text(driver, "Bytes sent")
        assert "Messages sent" in body
        _shot(driver, shots, "ledger-lab")
    finally:
        driver.quit()
        for d in (admin, *views.values()):
            d.stop()
    assert {p.name for p in shots.iterdir()} >= {"job.png", "federation.png"}
    # what the approval page said would leave each silo is what its ledger says left
    spec = parse_job(tomllib.loads(good.read_text()), "job")
    for name in fed.parties:
        predicted = {kind for o in outbound(spec, name) for kind in o.kind.split(" / ")}
        sent = {
            x.kind for x in ledger_lines(NodeDb(fed.root / name / "state" / "party.db"), job_id)
        }
        assert sent and sent <= predicted, (name, sent - predicted)
