"""align.protocol = "rr22" through `vfl.simulate`: the breast sample trains on rows aligned
by spu's RR22, and a second run reuses the stored alignment without running spu again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import vfl
from parties.data import load_dataset
from tests.unit.psi.harness import needs_fastpsi
from vfl.config.job_spec import VerticalJobSpec, vertical
from vfl.config.loading import load_job
from vfl.runtime.workspace import Workspace

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
pytestmark = needs_fastpsi


def _breast_rr22() -> VerticalJobSpec:
    spec = vertical(load_job(SAMPLES / "breast" / "job.toml"))
    align = spec.align.model_copy(update={"protocol": "rr22"})
    return spec.model_copy(update={"align": align})


PINS: dict[str, Any] = {
    "job_id": "rr22-breast",
    "party_secrets": {"lab": b"l" * 32, "hospital": b"h" * 32},
    "spec_digest": b"s" * 32,
}
"""Same initial weights whatever the align protocol (they come from the party secrets, job
id and spec digest): the ecdh run is then the oracle for the rr22 run's metrics. Unpinned,
each run drew its own weights and a fixed AUC floor failed on an unlucky draw (CI: 0.9686)."""


def test_breast_sample_trains_on_rr22_aligned_rows_and_reuses_them(tmp_path: Path) -> None:
    spec = _breast_rr22()
    first = vfl.simulate(spec, workdir=tmp_path, **PINS)
    assert first.status == "succeeded", first.error
    assert first.align["protocol"] == "rr22"
    ecdh = spec.model_copy(update={"align": spec.align.model_copy(update={"protocol": "ecdh"})})
    oracle = vfl.simulate(ecdh, workdir=tmp_path / "ecdh", **PINS)
    assert oracle.status == "succeeded", oracle.error
    assert first.metrics["validation"] == pytest.approx(oracle.metrics["validation"], rel=1e-9)
    assert first.metrics["validation"]["auc"] > 0.9  # a model, not a constant scorer
    ids = {p.name: set(load_dataset(spec, p).ids) for p in spec.parties}
    expected = sorted(set.intersection(*ids.values()))
    for party in ids:
        assert list(Workspace(tmp_path / party).load_alignment()) == expected
    assert first.align["intersection_size"] == len(expected)
    second = vfl.simulate(spec, workdir=tmp_path, **PINS)
    assert second.status == "succeeded", second.error
    for party in ids:
        assert list(Workspace(tmp_path / party).load_alignment()) == expected
    # only the AlignCheck messages crossed in the second align phase: no frames
    sent = {p: second.bytes[p]["sent"] for p in ids}
    assert all(b < first.bytes[p]["sent"] - 10_000 for p, b in sent.items())
