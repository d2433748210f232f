"""The vectorised matcher and duplicate counter against plain Python."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from psi.matching import duplicate_count, match

_key = st.binary(min_size=16, max_size=16)


@settings(max_examples=200, deadline=None)
@given(st.sets(_key, max_size=30), st.sets(_key, max_size=30), st.sets(_key, max_size=10))
def test_match_finds_exactly_the_common_keys(a: set[bytes], b: set[bytes], c: set[bytes]) -> None:
    left, right = list(a | c), list(b | c)
    la = np.frombuffer(b"".join(left), dtype=np.uint8).reshape(-1, 16)
    ra = np.frombuffer(b"".join(right), dtype=np.uint8).reshape(-1, 16)
    i, j = match(la, ra)
    assert sorted((left[x], right[y]) for x, y in zip(i, j, strict=True)) == sorted(
        (k, k) for k in set(left) & set(right)
    )
    assert list(i) == sorted(i)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=2, max_size=2), max_size=40))
def test_duplicate_count_is_rows_minus_distinct(raw: list[bytes]) -> None:
    keys = [r * 8 for r in raw]  # 16 bytes; few distinct values so repeats are common
    rows = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 16)
    assert duplicate_count(rows) == len(keys) - len(set(keys))
