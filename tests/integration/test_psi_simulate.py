"""The align phase through `vfl.simulate`: vertical jobs train on PSI-aligned rows."""

from __future__ import annotations

from pathlib import Path

import pytest

import vfl
from parties.data import load_dataset
from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.config.job_spec import vertical
from vfl.config.loading import load_job
from vfl.runtime.workspace import Workspace

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_breast_sample_trains_on_ecdh_aligned_rows(tmp_path: Path) -> None:
    spec = vertical(load_job(SAMPLES / "breast" / "job.toml"))
    assert spec.align.protocol == "ecdh"
    # pinned secrets: the initial weights are fixed, so the AUC floor cannot fail on an
    # unlucky draw (the rr22 twin of this test did once in CI: 0.9686)
    pins = {"lab": b"l" * 32, "hospital": b"h" * 32}
    result = vfl.simulate(
        spec, workdir=tmp_path, job_id="ecdh-breast", party_secrets=pins, spec_digest=b"s" * 32
    )
    assert result.status == "succeeded", result.error
    assert result.align["protocol"] == "ecdh"
    assert result.metrics["validation"]["auc"] >= 0.97
    ids = {p.name: set(load_dataset(spec, p).ids) for p in spec.parties}
    expected = sorted(set.intersection(*ids.values()))
    for party in ids:
        assert list(Workspace(tmp_path / party).load_alignment()) == expected
    assert result.align["intersection_size"] == len(expected)


@pytest.mark.parametrize("protocol", ["ecdh", "rsa", "join"])
def test_three_party_job_aligns_the_same_rows_with_every_protocol(
    tmp_path: Path, protocol: str
) -> None:
    paths = synthetic_vertical(tmp_path, {"a": 2, "b": 2, "c": 2}, rows=150, drop=0.15)
    spec = job_spec(job_dict(paths, align={"protocol": protocol}, train={"epochs": 1}))
    result = vfl.simulate(spec, workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    aligned = {p: Workspace(tmp_path / "run" / p).load_alignment() for p in paths}
    ids = [set(load_dataset(spec, p).ids) for p in spec.parties]
    assert set(aligned.values()) == {tuple(sorted(set.intersection(*ids)))}


def test_cardinality_only_job_stops_after_align(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"a": 2, "b": 2}, rows=120, drop=0.2)
    spec = job_spec(job_dict(paths, align={"protocol": "ecdh", "cardinality_only": True}))
    result = vfl.simulate(spec, workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    ids = [set(load_dataset(spec, p).ids) for p in spec.parties]
    assert result.align["intersection_size"] == len(set.intersection(*ids))
    assert "train_s" not in result.timings and not result.metrics and not result.models
    assert not (tmp_path / "run" / "a" / "aligned_ids.txt").exists()


def test_a_stored_alignment_is_reused_not_recomputed(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"a": 2, "b": 2}, rows=100, drop=0.1)
    spec = job_spec(job_dict(paths, align={"protocol": "ecdh"}, train={"epochs": 1}))
    first = vfl.simulate(spec, workdir=tmp_path / "run")
    stored = Workspace(tmp_path / "run" / "a").load_alignment()
    second = vfl.simulate(spec, workdir=tmp_path / "run")
    assert first.status == second.status == "succeeded"
    assert Workspace(tmp_path / "run" / "a").load_alignment() == stored
    # Only the two AlignCheck messages crossed in the second align phase, no blinded sets.
    assert second.bytes["b"]["sent"] < first.bytes["b"]["sent"] - 100 * 32
