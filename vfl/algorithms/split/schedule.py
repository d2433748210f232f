"""The row schedule every party derives on its own from the job seed.

All parties hold the aligned rows in the same order, so the validation split and each
epoch's batches are the same everywhere without a single row index crossing the wire.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

EVAL_BATCH = 4096
"""Rows per forward-only batch (validation, evaluate): larger means fewer messages."""


def derive_seed(seed: int, *labels: object) -> int:
    """A 63-bit seed for one purpose, stable across processes and Python versions."""
    text = "/".join([str(seed), *map(str, labels)]).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class BatchSchedule:
    rows: int
    batch_size: int
    validation_fraction: float
    seed: int
    train_rows: NDArray[np.int64] = field(init=False, repr=False)
    valid_rows: NDArray[np.int64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        order = np.random.default_rng(derive_seed(self.seed, "validation")).permutation(self.rows)
        n_valid = round(self.rows * self.validation_fraction)
        if self.validation_fraction > 0 and self.rows > 1:
            n_valid = max(n_valid, 1)
        n_valid = min(n_valid, self.rows - 1)  # always keep at least one training row
        object.__setattr__(self, "valid_rows", np.sort(order[:n_valid]))
        object.__setattr__(self, "train_rows", np.sort(order[n_valid:]))

    def train_batches(self, epoch: int) -> list[NDArray[np.int64]]:
        """This epoch's shuffled training batches; the last one may be short."""
        rng = np.random.default_rng(derive_seed(self.seed, "epoch", epoch))
        order = rng.permutation(self.train_rows)
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    @staticmethod
    def eval_batches(rows: NDArray[np.int64]) -> list[NDArray[np.int64]]:
        return [rows[i : i + EVAL_BATCH] for i in range(0, len(rows), EVAL_BATCH)]
