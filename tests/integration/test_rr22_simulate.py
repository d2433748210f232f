"""align.protocol = "rr22" through `vfl.simulate`: the breast sample trains on rows aligned
by spu's RR22, and a second run reuses the stored alignment without running spu again."""

from __future__ import annotations

from pathlib import Path

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


def test_breast_sample_trains_on_rr22_aligned_rows_and_reuses_them(tmp_path: Path) -> None:
    spec = _breast_rr22()
    first = vfl.simulate(spec, workdir=tmp_path)
    assert first.status == "succeeded", first.error
    assert first.align["protocol"] == "rr22"
    assert first.metrics["validation"]["auc"] >= 0.97
    ids = {p.name: set(load_dataset(spec, p).ids) for p in spec.parties}
    expected = sorted(set.intersection(*ids.values()))
    for party in ids:
        assert list(Workspace(tmp_path / party).load_alignment()) == expected
    assert first.align["intersection_size"] == len(expected)
    second = vfl.simulate(spec, workdir=tmp_path)
    assert second.status == "succeeded", second.error
    for party in ids:
        assert list(Workspace(tmp_path / party).load_alignment()) == expected
    # only the AlignCheck messages crossed in the second align phase: no frames
    sent = {p: second.bytes[p]["sent"] for p in ids}
    assert all(b < first.bytes[p]["sent"] - 10_000 for p, b in sent.items())
