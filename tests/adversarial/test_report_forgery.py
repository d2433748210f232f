"""Issue 17, probes 2 and 6c: a feature holder sent `Report` events that rewrote a job's
validation AUC and history, also after the job had succeeded; and 15,925 events slowed
every GetJob of their job.

Mallory runs a real node (its programs train honestly) and writes forged reports on its
own stream: as a feature holder it may report neither metrics nor losses, during the job
or after; as a label holder it may not report once the job ended, and its flood of step
events is stored only up to `[reports] max_events_per_job`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.adversarial.federation import (
    BREAST,
    EVENT_CAP,
    MALLORY,
    assert_no_attack_result,
    assert_serving,
    operator,
    submit_file,
    submit_honest,
    wait_for_state,
)
from tests.adversarial.mallory import MalloryNode, deployed_spec, mallory_sample, report
from vfl.cli.local_federation import LocalFederation
from vfl.errors import ProtocolError
from vfl.protocol import reports
from vfl.runtime.events import (
    CurvesReport,
    EpochReport,
    Event,
    MetricsReport,
    Progress,
    StepReport,
)

pytestmark = pytest.mark.slow
FLOOD = 3 * EVENT_CAP
CAP_NOTICE = "further step and progress events are dropped"
FORGERIES: list[tuple[Event, str]] = [
    (MetricsReport("validation", {"auc": 0.5}), "metrics"),
    (EpochReport(0, {"loss": 9.9}), "epoch"),
    (StepReport(0, 0, 9.9), "step"),
    # a feature holder holds no label, so any ROC it sends is invented (here: a perfect one)
    (CurvesReport("validation", (0.0, 0.5, 1.0), (0.0, 0.0, 1.0), (0.0, 1.0, 1.0)), "curves"),
]


def _forge_as_feature_holder(mallory: MalloryNode, job_id: str) -> None:
    for event, kind in FORGERIES:
        with pytest.raises(ProtocolError) as err:
            mallory.node.link.submit(report(job_id, event), wait=True)
        assert str(err.value) == (
            f"coordinator refused report: party {MALLORY} is feature_holder in job "
            f"{job_id}; only label_holder may report {kind}"
        )


def test_a_feature_holder_cannot_rewrite_metrics_or_history_during_or_after_its_job(
    fed: LocalFederation, tmp_path: Path
) -> None:
    sample = mallory_sample(tmp_path, "lab")  # mallory holds lab's table and role
    with MalloryNode(fed, BREAST.parent / "lab.csv") as mallory:
        job = submit_file(fed, deployed_spec(sample, fed.root / "mallory-feature.toml"))
        wait_for_state(fed, job, ("train",))
        _forge_as_feature_holder(mallory, job.job_id)
        result = assert_no_attack_result(fed, job, tmp_path / "oracle", sample)
        _forge_as_feature_holder(mallory, job.job_id)
    client = operator(fed)
    try:
        assert client.result(job.job_id) == result
    finally:
        client.close()
    assert_serving(fed)


def _stored_kinds(fed: LocalFederation, job_id: str) -> list[reports.EventKind]:
    with sqlite3.connect(f"file:{fed.root / 'coordinator.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT payload FROM events WHERE job_id = ?", (job_id,)).fetchall()
    return [reports.kind_of(reports.from_json(payload)) for (payload,) in rows]


def test_a_label_holder_floods_events_only_up_to_the_cap_and_cannot_report_after_the_end(
    fed: LocalFederation, tmp_path: Path
) -> None:
    honest = submit_honest(fed, "event-flood")
    sample = mallory_sample(tmp_path, "hospital")  # mallory is the label holder, with lab
    with MalloryNode(fed, BREAST.parent / "hospital.csv") as mallory:
        job = submit_file(fed, deployed_spec(sample, fed.root / "mallory-label.toml"))
        wait_for_state(fed, job, ("align",))
        for i in range(FLOOD):  # distinct (epoch, batch): none replaces another
            step = StepReport(1000 + i // 100, i % 100, 0.5)
            mallory.node.link.submit(report(job.job_id, step), wait=False)
        mallory.node.link.submit(report(job.job_id, Progress("align", 0, 1)), wait=True)
        mine = job.wait(fed)
        assert mine["status"] == "succeeded", mine.get("error")
        with pytest.raises(ProtocolError) as err:
            mallory.node.link.submit(report(job.job_id, FORGERIES[0][0]), wait=True)
        assert str(err.value) == (
            f"coordinator refused report: job {job.job_id} is succeeded, not running; "
            f"party {MALLORY}'s metrics report is refused"
        )
    kinds = _stored_kinds(fed, job.job_id)
    droppable = (reports.EventKind.STEP, reports.EventKind.PROGRESS)
    assert sum(k in droppable for k in kinds) <= EVENT_CAP
    client = operator(fed)
    try:
        assert client.result(job.job_id) == mine  # GetJob answers; nothing changed it
        assert any(CAP_NOTICE in line.text for line in client.logs(job.job_id))
    finally:
        client.close()
    assert_no_attack_result(fed, honest, tmp_path / "oracle")
    assert_serving(fed)
