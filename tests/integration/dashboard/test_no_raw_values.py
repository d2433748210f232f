"""Nothing a dashboard renders carries a raw ID, feature value, key, ciphertext or a
number drawn from the data: every page of both views, against stores seeded with such
values, is scanned byte for byte (tables and chart data included). The same scan is shown
to catch a page that leaks, so it would fail if a page printed one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard_seed import ENVELOPE_BODY, MODEL_SECRET, RAW
from tests.integration.dashboard.apps import (
    ADMIN_PAGES,
    PARTY_PAGES,
    AdminApp,
    PartyApp,
    admin_app,
    no_exception,
    party_app,
    rendered,
)


def _admin_pages(app: AdminApp) -> Iterator[str]:
    for page in ADMIN_PAGES:
        yield rendered(app.page(page))
    for job in app.seeded.jobs:
        at = app.page("job", job)
        no_exception(at)
        yield rendered(at)


def _party_pages(app: PartyApp) -> Iterator[str]:
    for page in PARTY_PAGES:
        at = app.page(page)
        no_exception(at)
        yield rendered(at)


def _leaks(pages: Iterator[str]) -> list[str]:
    text = "\n".join(pages)
    assert "breast-vertical" in text, "the scan must see what the pages do show"
    return [raw for raw in RAW if raw in text]


def test_no_admin_page_shows_a_seeded_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _leaks(_admin_pages(admin_app(tmp_path, monkeypatch))) == []


def test_no_party_page_shows_a_seeded_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _leaks(_party_pages(party_app(tmp_path, monkeypatch))) == []


def test_the_scan_catches_a_job_page_that_shows_relayed_bodies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.queries import job_result as real  # noqa: PLC0415

    def leaky(db: Any, job: Any) -> dict[str, Any]:  # a page that dumps the relay's mail
        out = real(db, job)
        with db.engine.connect() as conn:
            bodies = conn.exec_driver_sql("SELECT data FROM envelopes").scalars().all()
        out["metrics"]["relay"] = {bytes(b).decode(): 1.0 for b in bodies}
        return out

    monkeypatch.setattr("dashboard.admin.job_page.job_result", leaky)
    leaks = _leaks(_admin_pages(admin_app(tmp_path, monkeypatch)))
    assert leaks == [ENVELOPE_BODY.decode().removeprefix("CIPHERTEXT-")]


def test_the_scan_catches_a_models_page_that_shows_label_statistics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.queries import node_models  # noqa: PLC0415

    monkeypatch.setattr(node_models, "SHOWN_META", (*node_models.SHOWN_META, "target_mean"))
    real = node_models._describe

    def every_key(folder: Path, at: float) -> Any:
        import json  # noqa: PLC0415

        model = real(folder, at)
        meta = json.loads((folder / "model.json").read_text())
        return type(model)(
            model.job_id,
            model.written_at,
            model.bytes,
            model.features,
            {k: str(v) for k, v in meta.items()},
        )

    monkeypatch.setattr(node_models, "_describe", every_key)
    leaks = _leaks(_party_pages(party_app(tmp_path, monkeypatch)))
    assert leaks == [MODEL_SECRET]
