"""Update compression: int8 quantization and top-k sparsification with error feedback.

Bandwidth per party and round, for d parameters (float32 on the wire uncompressed):
- none: 4d bytes;
- int8: d bytes + 8 (scale and offset): 4x smaller. Stochastic rounding keeps it unbiased:
  E[decode(encode(x))] = x, with error at most one step (range / 255) per coordinate;
- top-k (fraction k of coordinates): k·d·(4 + 4) bytes (value and index), e.g. 8x smaller at
  k = 1/16. The coordinates not sent this round are kept by the party (error feedback,
  Stich et al. 2018; Karimireddy et al. 2019) and added to its next update, so nothing is
  lost, only delayed. Top-k needs the aggregator to see which coordinates each party sent,
  so it is refused with secure aggregation (masks would hide nothing on a sparse support
  the coordinator must learn). int8 composes with it, on a grid common to all parties
  instead of each update's own range (`public_grid.py`), the levels masked in a narrow
  ring (`vfl/crypto/secagg/level_ring.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from vfl.algorithms.horizontal.strategies import Vector


@dataclass(frozen=True)
class Quantized:
    """An update in int8 with the affine map back: x ≈ offset + scale · (q + 128)."""

    values: npt.NDArray[np.int8]
    offset: float
    scale: float

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes) + 16


def quantize(update: Vector, rng: np.random.Generator) -> Quantized:
    """Unbiased 8-bit quantization with stochastic rounding over the update's range."""
    low, high = float(update.min()), float(update.max())
    scale = (high - low) / 255 if high > low else 1.0
    position = (update - low) / scale
    floor = np.floor(position)
    rounded = floor + (rng.random(update.shape) < position - floor)
    levels = np.clip(rounded, 0, 255) - 128
    return Quantized(levels.astype(np.int8), low, scale)


def dequantize(packed: Quantized) -> Vector:
    return packed.offset + packed.scale * (packed.values.astype(np.float64) + 128)


@dataclass(frozen=True)
class Sparse:
    """The k largest-magnitude coordinates of an update."""

    indices: npt.NDArray[np.int32]
    values: npt.NDArray[np.float32]
    size: int

    @property
    def nbytes(self) -> int:
        return int(self.indices.nbytes + self.values.nbytes)

    def dense(self) -> Vector:
        out = np.zeros(self.size)
        out[self.indices] = self.values
        return out


@dataclass
class TopK:
    """Top-k sparsification with error feedback, one per party (it keeps the residual)."""

    fraction: float
    residual: Vector | None = field(default=None)

    def compress(self, update: Vector) -> Sparse:
        carried = update if self.residual is None else update + self.residual
        k = max(1, round(self.fraction * carried.size))
        chosen = np.argpartition(np.abs(carried), -k)[-k:]
        chosen.sort()
        sent = Sparse(chosen.astype(np.int32), carried[chosen].astype(np.float32), carried.size)
        self.residual = carried - sent.dense()
        return sent
