"""The public int8 grid of secure aggregation: within one step and unbiased inside ±bound,
clipped beyond it, and the sum of levels maps back to the sum of dequantized values."""

from __future__ import annotations

import numpy as np

from vfl.algorithms.horizontal.public_grid import PublicGrid


def test_levels_are_within_one_step_and_unbiased_inside_the_bound() -> None:
    grid = PublicGrid(bound=1.5)
    rng = np.random.default_rng(0)
    update = rng.uniform(-1.5, 1.5, 1000)
    levels = grid.quantize(update, rng)
    assert levels.dtype == np.uint8
    back = -grid.bound + grid.step * levels.astype(np.float64)
    assert np.abs(back - update).max() <= grid.step + 1e-12
    draws = [grid.quantize(update, rng).astype(np.float64) for _ in range(400)]
    mean = -grid.bound + grid.step * np.mean(draws, axis=0)
    assert np.abs(mean - update).max() < grid.step / 4  # nearest rounding: ~step/2 bias


def test_values_beyond_the_bound_are_clipped_to_its_ends() -> None:
    grid = PublicGrid(bound=1.0)
    levels = grid.quantize(np.array([-7.0, -1.0, 1.0, 9.0]), np.random.default_rng(1))
    assert levels.tolist() == [0, 0, 255, 255]


def test_the_sum_of_levels_maps_back_to_the_sum_of_dequantized_values() -> None:
    grid = PublicGrid(bound=3.0)
    rng = np.random.default_rng(2)
    levels = [grid.quantize(rng.normal(0, 1, 50), rng) for _ in range(4)]
    each = [-grid.bound + grid.step * q.astype(np.float64) for q in levels]
    total = np.sum([q.astype(np.int64) for q in levels], axis=0)
    assert np.allclose(grid.dequantize_sum(total, 4), np.sum(each, axis=0))
