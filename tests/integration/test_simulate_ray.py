"""`simulate(backend="ray")` on a local Ray instance trains the model the thread simulator
trains: same programs, same party secrets, other processes.

Secure aggregation is on, so masks drawn from each party's secret cross the Ray hub and
must cancel at the aggregator exactly as they do in memory; a party whose secret did not
reach its actor would draw other masks and initial weights, and the models would differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.api import simulate
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


def _spec(tmp: Path) -> JobSpec:
    paths = synthetic_horizontal(tmp / "data", parties=3, rows=96)
    spec = horizontal_dict(paths, train={"rounds": 2, "secure_aggregation": True})
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
        spec, workdir=tmp_path / "ray", job_id=JOB_ID, party_secrets=secrets, backend="ray"
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
