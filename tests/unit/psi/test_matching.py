"""The vectorised matcher and duplicate counter against plain Python.

Keys come from a tiny alphabet so that first-8-byte ties, and runs of three or more
ties, are common: the paths real pseudo-random keys almost never take.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from psi.matching import duplicate_count, match

_key = st.builds(
    lambda hi, lo, tail: bytes([hi]) * 8 + bytes([lo]) * 8 + tail,
    st.integers(0, 2),
    st.integers(0, 4),
    st.sampled_from([b"", b"\x00" * 16]),
)


def _rows(keys: list[bytes], width: int) -> np.ndarray:
    return np.frombuffer(b"".join(k[:16].ljust(width, b"\x07") for k in keys), np.uint8).reshape(
        -1, width
    )


@settings(max_examples=300, deadline=None)
@given(st.sets(_key, max_size=15), st.sets(_key, max_size=15), st.sampled_from([16, 32]))
def test_match_finds_exactly_the_common_keys(a: set[bytes], b: set[bytes], width: int) -> None:
    left = list(dict.fromkeys(k[:16] for k in a))
    right = list(dict.fromkeys(k[:16] for k in b))
    i, j = match(_rows(left, width), _rows(right, width))
    found = sorted((left[x], right[y]) for x, y in zip(i, j, strict=True))
    assert found == sorted((k, k) for k in set(left) & set(right))
    assert list(i) == sorted(i)


@settings(max_examples=300, deadline=None)
@given(st.lists(_key, max_size=40))
def test_duplicate_count_is_rows_minus_distinct(keys: list[bytes]) -> None:
    rows = _rows(keys, 32)
    distinct = {k[:16] for k in keys}
    assert duplicate_count(rows) == len(keys) - len(distinct)


def test_random_keys_at_scale_match_a_python_oracle() -> None:
    rng = np.random.default_rng(0)
    shared = rng.integers(0, 256, size=(3000, 16), dtype=np.uint8)
    left = np.concatenate([shared, rng.integers(0, 256, size=(5000, 16), dtype=np.uint8)])
    right = np.concatenate([rng.integers(0, 256, size=(4000, 16), dtype=np.uint8), shared])
    i, j = match(left, right)
    assert len(i) == 3000 and (left[i] == right[j]).all()
    assert duplicate_count(np.concatenate([left, shared[:7]])) == 7
