"""`vfl split`'s Dirichlet label skew: a partition of the rows, skewed for small α and
near even for large α, reproducible, with a floor of rows per party."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parties.data.dirichlet_split import dirichlet_split
from vfl.errors import ConfigError


def _frame(rows: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=rows), "y": rng.integers(0, 2, rows)})


def _positive_share_spread(parts: list[pd.DataFrame]) -> float:
    shares = [part["y"].mean() for part in parts]
    return float(max(shares) - min(shares))


def test_the_parts_partition_the_rows_and_the_split_is_reproducible() -> None:
    frame = _frame()
    parts = dirichlet_split(frame, "y", 4, alpha=0.5, seed=3)
    assert sum(len(p) for p in parts) == len(frame)
    joined = pd.concat(parts).sort_values(["x"]).reset_index(drop=True)
    assert joined.equals(frame.sort_values(["x"]).reset_index(drop=True))
    again = dirichlet_split(frame, "y", 4, alpha=0.5, seed=3)
    assert all(a.equals(b) for a, b in zip(parts, again, strict=True))
    assert all(len(p) >= 10 for p in parts)


def test_small_alpha_skews_labels_and_large_alpha_evens_them() -> None:
    frame = _frame()
    skewed = _positive_share_spread(dirichlet_split(frame, "y", 5, alpha=0.1, seed=1))
    even = _positive_share_spread(dirichlet_split(frame, "y", 5, alpha=100.0, seed=1))
    assert skewed > 0.5 and even < 0.2  # even: only sampling noise of ~200 rows a party


def test_bad_requests_say_what_is_wrong() -> None:
    with pytest.raises(ConfigError, match="label column 'z' not found"):
        dirichlet_split(_frame(), "z", 3, 0.5, 0)
    with pytest.raises(ConfigError, match="cannot give 5 parties 10 rows each"):
        dirichlet_split(_frame(30), "y", 5, 0.5, 0)
