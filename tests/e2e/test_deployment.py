"""Real deployment: a coordinator and party nodes as separate processes on 127.0.0.1,
with mTLS, started and driven through the `vfl` CLI. Results must equal the simulator's
for the same job and seed."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.deployment import (
    SAMPLES,
    assert_models_equal,
    finished,
    simulated,
    submit,
    vfl,
    wait_until,
)
from vfl.cli.local_federation import LocalFederation

pytestmark = pytest.mark.slow


@pytest.fixture
def breast(tmp_path: Path) -> Iterator[LocalFederation]:
    fed = LocalFederation(tmp_path / "fed", SAMPLES / "breast" / "job.toml")
    try:
        fed.start()
        fed.wait_connected()
        yield fed
    finally:
        fed.stop()


def _metrics_match(got: dict[str, dict[str, float]], want: dict[str, dict[str, float]]) -> None:
    assert set(got) == set(want)
    for split, values in want.items():
        assert got[split] == pytest.approx(values, rel=1e-6, abs=1e-9), split


def test_two_party_job_matches_the_simulator(breast: LocalFederation, tmp_path: Path) -> None:
    started = time.perf_counter()
    spec = breast.job_spec(epochs=4)
    out = tmp_path / "result.json"
    proc = vfl("job", "submit", str(spec), "--wait", "--json", str(out), *breast.cli_args())
    assert proc.returncode == 0, proc.stderr + proc.stdout
    print(f"e2e two-party wall time: {time.perf_counter() - started:.1f} s")
    deployed = json.loads(out.read_text())
    oracle = simulated(
        SAMPLES / "breast" / "job.toml", tmp_path / "sim", breast, deployed["job_id"], epochs=4
    )
    assert deployed["status"] == "succeeded"
    assert set(deployed) == set(oracle)
    _metrics_match(deployed["metrics"], oracle["metrics"])
    assert set(deployed["curves"]) == set(oracle["curves"]) == {"validation"}
    for kind in ("roc", "ks"):  # same model, same rows: the same curve points
        got, want = deployed["curves"]["validation"][kind], oracle["curves"]["validation"][kind]
        assert set(got) == set(want), kind
        for key, points in want.items():
            assert got[key] == pytest.approx(points, abs=1e-9), (kind, key)
    assert deployed["align"] == oracle["align"]
    assert [h["epoch"] for h in deployed["history"]] == [0, 1, 2, 3]
    assert_models_equal(deployed["models"], tmp_path / "sim")
    status = vfl("job", "status", deployed["job_id"], "--json", *breast.cli_args())
    assert json.loads(status.stdout) == deployed
    listing = vfl("job", "list", *breast.cli_args())
    assert deployed["job_id"] in listing.stdout
    logs = vfl("job", "logs", deployed["job_id"], *breast.cli_args())
    assert "succeeded" in logs.stdout and "approved by lab" in logs.stdout


def test_three_party_job_matches_the_simulator(tmp_path: Path) -> None:
    sample = SAMPLES / "breast_three_party" / "job.toml"
    fed = LocalFederation(tmp_path / "fed", sample)
    try:
        started = time.perf_counter()
        fed.start()
        fed.wait_connected()
        job_id = submit(fed, fed.job_spec(epochs=3))
        result = wait_until(fed, job_id, finished)
        print(f"e2e three-party wall time: {time.perf_counter() - started:.1f} s")
    finally:
        fed.stop()
    assert result["status"] == "succeeded", result.get("error")
    oracle = simulated(sample, tmp_path / "sim", fed, job_id, epochs=3)
    _metrics_match(result["metrics"], oracle["metrics"])
    assert_models_equal(result["models"], tmp_path / "sim")


def test_a_failing_party_fails_the_job_naming_it(tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    shutil.copytree(SAMPLES / "breast", sample)
    fed = LocalFederation(tmp_path / "fed", sample / "job.toml")
    try:
        fed.start()
        fed.wait_connected()
        # after registering, the lab's table loses its ID column: its align must fail
        (sample / "lab.csv").write_text("other_id,x\nP-1,1.0\n")
        job_id = submit(fed, fed.job_spec(epochs=2))
        result = wait_until(fed, job_id, finished)
        logs = vfl("job", "logs", job_id, *fed.cli_args())
    finally:
        fed.stop()
    assert result["status"] == "failed"
    assert result["error"].startswith("party lab failed align: lab.csv: ID column 'patient_id'")
    assert "align failed" in logs.stdout
