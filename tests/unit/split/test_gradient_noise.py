"""`train.gradient_noise` with `protection = "none"`: Gaussian noise on the returned gradient.

Same spec and seed with and without noise: the first batch's forward pass is identical, so
the difference between the two gradients the label holder sends is exactly the noise.
(`gradient_noise = 0` leaving training untouched is test_plain_oracle.py's job at 1e-6.)
"""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import run_job
from vfl.algorithms.split.messages import CutGradient
from vfl.protocol import serde
from vfl.runtime.party_secret import secret_file
from vfl.runtime.workspace import Workspace

SIGMA = 0.5


def _gradients(paths: dict[str, Path], workdir: Path, noise: float) -> list[np.ndarray]:
    spec = job_spec(job_dict(paths, train={"gradient_noise": noise, "epochs": 1}))
    run = run_job(spec, workdir)
    kind = serde.kind_of(CutGradient)
    return [serde.decode(e.body, CutGradient).values for e in run.hub.envelopes if e.kind == kind]


def test_gradient_noise_adds_gaussian_noise_of_the_configured_std(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=400)
    exact = _gradients(paths, tmp_path / "exact", 0.0)
    noisy = _gradients(paths, tmp_path / "noisy", SIGMA)
    assert len(exact) == len(noisy) == 10  # 320 training rows, batches of 32
    diff = (noisy[0] - exact[0]).astype(np.float64)
    assert diff.shape == (32, 4)
    # 128 draws: the sample std of N(0, 0.5²) lies in [0.4, 0.6] with probability > 0.999.
    assert 0.4 < float(diff.std()) < 0.6
    assert abs(float(diff.mean())) < 0.15
    assert float(np.abs(exact[0]).max()) < 0.1 * SIGMA  # the noise dominates the signal


def test_zero_gradient_noise_sends_the_exact_gradient_every_time(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=200)
    first = _gradients(paths, tmp_path / "a", 0.0)
    second = _gradients(paths, tmp_path / "b", 0.0)
    assert len(first) == 5
    assert all(np.array_equal(x, y) for x, y in zip(first, second, strict=True))


def test_gradient_noise_is_replayed_after_a_restart_and_differs_between_parties(
    tmp_path: Path,
) -> None:
    """Same workspace → same noise (a restarted program re-sends what it sent); another
    workspace (another label holder) → other noise: it comes from a local key, not the seed."""
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=200)
    first = _gradients(paths, tmp_path / "a", SIGMA)
    for party in ("bank", "shop"):  # restart training from scratch, keep the workspace
        (tmp_path / "a" / party / "checkpoints" / "train.pt").unlink()
    replayed = _gradients(paths, tmp_path / "a", SIGMA)
    for party in ("bank", "shop"):  # another party's secret (run_job would fix it)
        Workspace(tmp_path / "b" / party).private(
            secret_file("job"), lambda: secrets.token_bytes(32)
        )
    other = _gradients(paths, tmp_path / "b", SIGMA)
    assert len(first) == len(replayed) == len(other) == 5
    assert all(np.array_equal(x, y) for x, y in zip(first, replayed, strict=True))
    assert not np.array_equal(first[0], other[0])
