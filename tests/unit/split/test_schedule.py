"""Every party derives the same split and batches from the seed alone."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from vfl.algorithms.split.schedule import BatchSchedule, derive_seed


@given(
    rows=st.integers(1, 500),
    batch=st.integers(1, 64),
    fraction=st.floats(0, 0.9),
    seed=st.integers(0, 2**31),
)
def test_split_partitions_rows_and_batches_cover_training_rows(
    rows: int, batch: int, fraction: float, seed: int
) -> None:
    s = BatchSchedule(rows, batch, fraction, seed)
    assert len(np.intersect1d(s.train_rows, s.valid_rows)) == 0
    assert len(s.train_rows) + len(s.valid_rows) == rows
    assert len(s.train_rows) >= 1
    batches = s.train_batches(0)
    assert all(len(b) <= batch for b in batches)
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), s.train_rows)


def test_same_seed_same_schedule_other_seed_other_schedule() -> None:
    a, b, c = (BatchSchedule(100, 8, 0.2, seed) for seed in (1, 1, 2))
    np.testing.assert_array_equal(a.valid_rows, b.valid_rows)
    np.testing.assert_array_equal(a.train_batches(3)[0], b.train_batches(3)[0])
    assert not np.array_equal(a.valid_rows, c.valid_rows)
    assert not np.array_equal(a.train_batches(0)[0], a.train_batches(1)[0])


def test_derived_seeds_are_stable_and_distinct() -> None:
    assert derive_seed(7, "bottom", "bank") == derive_seed(7, "bottom", "bank")
    assert derive_seed(7, "bottom", "bank") != derive_seed(7, "bottom", "shop")
    assert 0 <= derive_seed(7, "x") < 2**63
