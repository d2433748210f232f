"""`simulate(backend=Backend.RAY)` on a local Ray instance trains the model the thread simulator
trains: same programs, same party secrets, other processes.

Secure aggregation is on, so masks drawn from each party's secret cross the Ray hub and
must cancel at the aggregator exactly as they do in memory; a party whose secret did not
reach its actor would draw other masks and initial weights, and the models would differ
(checked by hand: passing no secrets to the actors fails the first test). The second test
checks that one actor's failure reaches the driver and stops the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.api import Backend, simulate
from vfl.config.job_spec import JobSpec
from vfl.config.loading import load_job

ray = pytest.importorskip("ray", reason="the `ray` extra is not installed: pip install 'vfl[ray]'")

pytestmark = pytest.mark.ray

JOB_ID = "horizontal-ray"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def _spec(tmp: Path, extra_column_at: str | None = None, **train: object) -> JobSpec:
    paths = synthetic_horizontal(tmp / "data", parties=3, rows=96)
    if extra_column_at is not None:
        frame = pd.read_csv(paths[extra_column_at])
        frame["extra"] = 1.0
        frame.to_csv(paths[extra_column_at], index=False)
    spec = horizontal_dict(paths, train={"rounds": 2, "secure_aggregation": True, **train})
    return load_job(write_toml(tmp / "job.toml", spec))


def _weights(workdir: Path) -> np.ndarray:
    with np.load(workdir / "coordinator" / "model" / "weights.npz") as saved:
        params: np.ndarray = saved["params"]
    return params


def test_ray_backend_trains_the_model_the_threads_backend_trains(
    local_ray: None, tmp_path: Path
) -> None:
    spec = _spec(tmp_path)
    participants = [p.name for p in spec.parties] + ["coordinator"]
    secrets = {n: hashlib.sha256(n.encode()).digest() for n in participants}
    threads = simulate(spec, workdir=tmp_path / "threads", job_id=JOB_ID, party_secrets=secrets)
    on_ray = simulate(
        spec, workdir=tmp_path / "ray", job_id=JOB_ID, party_secrets=secrets, backend=Backend.RAY
    )

    assert threads.status == "succeeded", threads.error
    assert on_ray.status == "succeeded", on_ray.error
    expected, got = _weights(tmp_path / "threads"), _weights(tmp_path / "ray")
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert on_ray.history == threads.history
    assert on_ray.metrics == threads.metrics
    assert on_ray.bytes == threads.bytes
    assert on_ray.bytes["coordinator"]["received"] > 0


def test_a_party_failing_on_ray_fails_the_job_naming_it_and_stops_its_peers(
    local_ray: None, tmp_path: Path
) -> None:
    # The aggregator refuses site-b's extra column once training starts. The sample holders
    # then wait for a round that never comes; with waits of an hour, this test ends (before
    # pytest's timeout) only if the failure aborts the job across the actors.
    spec = _spec(tmp_path, extra_column_at="site-b", timeout_s=3600, round_timeout_s=3600)

    result = simulate(spec, workdir=tmp_path / "ray", job_id=JOB_ID, backend=Backend.RAY)

    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("party coordinator: party site-b: feature columns differ")
    assert result.models == {}
