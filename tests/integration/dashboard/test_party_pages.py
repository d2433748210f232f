"""A party's view under AppTest, against a seeded node (its SQLite, workspace, data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard_seed import SPEC
from tests.integration.dashboard.apps import PARTY_PAGES, PartyApp, no_exception, party_app, table


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PartyApp:
    return party_app(tmp_path, monkeypatch)


@pytest.mark.parametrize("page", PARTY_PAGES)
def test_every_party_page_renders(app: PartyApp, page: str) -> None:
    at = app.page(page)
    no_exception(at)
    assert at.header


def test_approval_shows_what_leaves_and_approves_through_the_policy(app: PartyApp) -> None:
    at = app.page("approvals")
    job = "breast-vertical-0000cccc"
    leaving = table(at, "carries")
    assert set(leaving["to"]) == {"lab"}
    assert "split_paillier.MaskedProduct" in set(leaving["message"])
    assert at.success[0].value == "party.toml [policy]: accepted"
    at.button(key=f"approve-{job}").click().run()
    assert app.client.calls == [("approve", job)]


def test_a_job_outside_policy_can_only_be_refused(app: PartyApp) -> None:
    job = "breast-vertical-0000cccc"
    app.client.specs[job] = {**SPEC, "train": {"protection": "none"}}
    at = app.page("approvals")
    assert "train.protection = 'none' is not allowed" in at.error[0].value
    assert at.button(key=f"approve-{job}").disabled
    at.text_input(key=f"reason-{job}").input("not this quarter").run()
    at.button(key=f"refuse-{job}").click().run()
    assert app.client.calls == [("decline: not this quarter", job)]


def test_ledger_shows_per_kind_counts_bytes_and_protection(app: PartyApp) -> None:
    at = app.page("ledger")
    at.selectbox(key="ledger-job").select(app.node.job_id).run()
    lines = table(at, "sealed with")
    assert list(lines["message"]) == ["ecdh.Blinded", "split_paillier.EncryptedActivations"]
    assert list(lines["count"]) == [3, 3] and set(lines["job protection"]) == {"paillier"}
    assert list(lines["readable"]) == ["blinded", "paillier"]  # what the recipient reads
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Messages sent"] == "6" and metrics["Bytes sent"] == "123.0 KB"


def test_datasets_models_and_privacy_pages(app: PartyApp) -> None:
    datasets = table(app.page("datasets"), "column names")
    assert datasets.iloc[0]["rows"] == 3 and datasets.iloc[0]["columns"] == 3
    models = table(app.page("models"), "features")
    assert models.iloc[0]["role"] == "label_holder"
    privacy = table(app.page("privacy"), "ε")
    assert list(privacy["ε"]) == ["0.930"]
