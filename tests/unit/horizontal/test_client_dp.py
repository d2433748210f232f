"""Client-level DP: clipping bounds every update, the distributed noise of n parties sums
to the calibrated total, and ε comes from dp-accounting with the expected monotonicity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vfl.algorithms.horizontal.client_dp import ClientDp, clip, epsilon


def test_clip_bounds_the_norm_and_leaves_small_updates_alone() -> None:
    big, small = np.full(100, 1.0), np.full(100, 0.01)
    assert np.linalg.norm(clip(big, 2.0)) == pytest.approx(2.0)
    assert np.array_equal(clip(small, 2.0), small)


def test_distributed_noise_of_n_parties_sums_to_the_central_calibration() -> None:
    dp = ClientDp(clip=1.0, noise_multiplier=1.1, expected_parties=10)
    rng = np.random.default_rng(0)
    zero = np.zeros(20_000)
    total = np.sum([dp.privatize(zero, rng, distributed=True) for _ in range(10)], axis=0)
    assert float(np.std(total)) == pytest.approx(dp.central_noise_std(), rel=0.02)
    assert np.array_equal(dp.privatize(zero, rng, distributed=False), zero)  # central: none


def test_epsilon_from_the_accountant_moves_the_way_it_must() -> None:
    base = epsilon(1.0, 0.1, 100, 1e-5)
    assert 0 < base < math.inf
    assert epsilon(2.0, 0.1, 100, 1e-5) < base  # more noise, less ε
    assert epsilon(1.0, 0.05, 100, 1e-5) < base  # less sampling, less ε
    assert epsilon(1.0, 0.1, 200, 1e-5) > base  # more rounds, more ε
    assert epsilon(1.0, 0.1, 100, 1e-5, survivors=0.5) > base  # dropouts thin the noise
    # known point: the Gaussian mechanism, z = 1, one release, δ = 1e-5 (RDP bound ~ 4.4–5)
    assert 3.5 < epsilon(1.0, 1.0, 1, 1e-5) < 6.0
