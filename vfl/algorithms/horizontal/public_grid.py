"""The int8 grid of secure aggregation: 256 levels over ±bound, the same at every party.

Plain int8 (`compression.py`) quantizes each update over its own range and sends offset and
scale beside the levels; the aggregator dequantizes each party's update and adds them.
Under secure aggregation it only ever sees the sum, so the levels must mean the same at
every party: the grid is public, fixed by the spec's `int8_bound` B, and each coordinate
is clipped to [−B, B] first. Level q ∈ 0..255 stands for −B + q · 2B/255, so for the m
parties counted in a round

    Σ x ≈ Σ dequantize(q) = −m·B + (2B/255) · Σ q,

and Σ q is what the narrow ring (`vfl/crypto/secagg/level_ring.py`) sums exactly. The
aggregator thus gets exactly the sum of what each party would have sent as int8 in the
clear. Rounding is stochastic, E[dequantize(q)] = clip(x, ±B) (unbiased inside the bound),
error below one step 2B/255 a coordinate; the coins come from the party's own secret
stream, never the job seed, so nobody else can predict (and so subtract) them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vfl.algorithms.horizontal.strategies import Vector
from vfl.crypto.secagg.level_ring import TOP_LEVEL

Levels = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class PublicGrid:
    """256 levels over [−bound, bound], common to all parties of a job."""

    bound: float

    @property
    def step(self) -> float:
        return 2 * self.bound / TOP_LEVEL

    def quantize(self, values: Vector, rng: np.random.Generator) -> Levels:
        """Levels 0..255 with unbiased stochastic rounding, after clipping to ±bound."""
        position = (np.clip(values, -self.bound, self.bound) + self.bound) / self.step
        floor = np.floor(position)
        rounded = floor + (rng.random(values.shape) < position - floor)
        levels: Levels = np.clip(rounded, 0, TOP_LEVEL).astype(np.uint8)
        return levels

    def dequantize_sum(self, level_sum: npt.NDArray[np.integer[Any]], parties: int) -> Vector:
        """Σ dequantize(q) over `parties` parties, from Σ q."""
        return -parties * self.bound + self.step * level_sum.astype(np.float64)
