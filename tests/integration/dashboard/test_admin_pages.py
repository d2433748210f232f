"""The coordinator admin view under AppTest, against a seeded store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard_seed import CURVES
from tests.integration.dashboard.apps import ADMIN_PAGES, AdminApp, admin_app, no_exception, table
from vfl.config.loading import parse_job, parse_toml
from vfl.errors import ConfigError


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AdminApp:
    return admin_app(tmp_path, monkeypatch)


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_every_admin_page_renders(app: AdminApp, page: str) -> None:
    at = app.page(page)
    no_exception(at)
    assert at.header


def test_jobs_page_lists_filters_and_shows_approvals(app: AdminApp) -> None:
    at = app.page("jobs")
    table = at.dataframe[0].value
    assert set(table["job"]) == set(app.seeded.jobs)
    pending = table[table["job"] == app.seeded.pending].iloc[0]
    assert pending["approved by"] == "hospital" and pending["waiting for"] == "lab"
    at.multiselect(key="f-states").select("failed").run()
    assert list(at.dataframe[0].value["job"]) == [app.seeded.failed]
    assert at.metric[0].value == "4"


def test_job_page_of_a_vertical_job_shows_every_section(app: AdminApp) -> None:
    at = app.page("job", app.seeded.succeeded)
    no_exception(at)
    sections = [s.value for s in at.subheader]
    assert sections == [
        "Phases",
        "Loss and metrics per epoch or round",
        "Final metrics",
        "ROC and KS curves",
        "Private set intersection",
        "Bytes per party",
        "Privacy spent",
        "Logs of every party",
    ]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["State"] == "succeeded" and metrics["Shared rows"] == "512"
    assert metrics["validation ks"] == "0.8800"
    logs = table(at, "line")
    assert set(logs["party"]) == {"coordinator", "hospital", "lab"}


def _charts(at: AppTest) -> dict[str, pd.DataFrame]:
    """Each Altair chart on the page by title, with the data it plots (Arrow datasets)."""
    out: dict[str, pd.DataFrame] = {}

    def walk(node: Any) -> None:
        if getattr(node, "type", None) == "vega_lite_chart":
            spec: dict[str, Any] = json.loads(node.proto.spec)
            title = spec.get("title")
            text = title.get("text") if isinstance(title, dict) else title
            frames = [
                pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in node.proto.datasets
            ]
            if text and frames:
                out[str(text)] = pd.concat(frames)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def test_job_page_draws_the_reported_roc_and_ks_curves(app: AdminApp) -> None:
    at = app.page("job", app.seeded.succeeded)
    no_exception(at)
    charts = _charts(at)
    roc = charts["ROC, validation"]
    model = roc[roc["series"] == "model"].sort_values("fpr")
    assert list(model["fpr"]) == list(CURVES.fpr) and list(model["tpr"]) == list(CURVES.tpr)
    ks = charts["KS, validation: 0.625"]
    positives = ks[ks["series"] == "positives (tpr)"].sort_values("depth")
    assert list(positives["depth"]) == list(CURVES.depth)
    assert list(positives["value"]) == list(CURVES.tpr)


def test_job_page_without_curves_has_no_curve_section(app: AdminApp) -> None:
    at = app.page("job", app.seeded.horizontal)
    no_exception(at)
    assert "ROC and KS curves" not in [s.value for s in at.subheader]
    assert not [t for t in _charts(at) if t.startswith(("ROC", "KS"))]


def test_job_page_of_a_horizontal_job_is_the_same_page(app: AdminApp) -> None:
    at = app.page("job", app.seeded.horizontal)
    no_exception(at)
    sections = [s.value for s in at.subheader]
    assert "Loss and metrics per epoch or round" in sections
    phases = table(at, "took")
    assert list(phases["phase"]) == ["train"] and phases.iloc[0]["progress"] == "50%"


def test_failed_job_shows_party_and_phase_in_one_line_and_retries(app: AdminApp) -> None:
    at = app.page("job", app.seeded.failed)
    assert [e.value for e in at.error] == [
        "train failed at lab: Paillier key of 1024 bits is below min_key_bits = 2048"
    ]
    assert at.button(key="cancel").disabled
    at.button(key="retry").click().run()
    assert app.client.calls == [("resume", app.seeded.failed)]


def test_cancel_goes_through_the_admin_api(app: AdminApp) -> None:
    at = app.page("job", app.seeded.pending)
    assert at.button(key="retry").disabled
    at.button(key="cancel").click().run()
    assert app.client.calls == [("cancel", app.seeded.pending)]


def test_submit_shows_the_validation_error_as_the_cli_prints_it(app: AdminApp) -> None:
    bad = '[job]\nname = "x"\n[train]\nepochs = -1\n'
    with pytest.raises(ConfigError) as cli:
        parse_job(parse_toml(bad, "job spec"), source="job spec")
    at = app.page("submit")
    at.text_area(key="spec-text").input(bad).run()
    at.button(key="submit").click().run()
    assert [e.value for e in at.error] == [f"vfl: error: {cli.value}"]
    assert app.client.calls == []


def test_submit_sends_a_valid_spec(app: AdminApp) -> None:
    at = app.page("submit")
    at.button(key="submit").click().run()
    assert app.client.calls == [("submit", "my-job")]
    assert "my-job-00000001" in at.success[0].value


def test_unknown_job_says_so(app: AdminApp) -> None:
    at = app.page("job", "no-such-job")
    no_exception(at)
    assert "No job" in at.error[0].value


def test_the_form_builds_a_spec_from_registered_datasets_and_submits_it(app: AdminApp) -> None:
    at = app.page("submit")
    at.selectbox(key="form-role-hospital").select("label_holder").run()
    at.selectbox(key="form-label-hospital").select("diagnosis").run()
    at.selectbox(key="form-role-lab").select("feature_holder").run()
    made = at.code[0].value
    assert 'name = "lab"\nrole = "feature_holder"\ndata = "data"' in made
    at.button(key="submit-form").click().run()
    assert not at.error, [e.value for e in at.error]
    assert app.client.calls == [("submit", "my-job")]
