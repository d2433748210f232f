"""Vectorised set operations on fixed-width pseudo-random keys (blinded values, tags).

A dict of 10M byte strings costs ~1 GB; two uint64 columns and one lexsort cost a third of
that and stay in numpy. Keys are the first 16 bytes of a blinded value or tag, so a false
match needs a 128-bit collision (about 2^-80 at 10M x 10M).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

KEY_BYTES = 16


def _words(rows: NDArray[np.uint8]) -> NDArray[np.uint64]:
    if rows.ndim != 2 or rows.shape[1] < KEY_BYTES:
        raise ValueError(f"keys need shape (n, >= {KEY_BYTES}), got {rows.shape}")
    return np.ascontiguousarray(rows[:, :KEY_BYTES]).view(np.uint64).reshape(-1, 2)


def duplicate_count(rows: NDArray[np.uint8]) -> int:
    """How many rows repeat an earlier row (0 when all keys are distinct)."""
    if len(rows) < 2:
        return 0
    words = _words(rows)
    order = np.lexsort((words[:, 1], words[:, 0]))
    s = words[order]
    return int(np.count_nonzero((s[1:] == s[:-1]).all(axis=1)))


def match(
    left: NDArray[np.uint8], right: NDArray[np.uint8]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Positions (i, j) with left[i] == right[j]; each side must hold distinct keys.

    Returned sorted by i.
    """
    n = len(left)
    if n == 0 or len(right) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    words = np.concatenate([_words(left), _words(right)])
    order = np.lexsort((words[:, 1], words[:, 0]))
    s = words[order]
    equal = np.flatnonzero((s[1:] == s[:-1]).all(axis=1))
    del s, words
    a = order[equal]
    b = order[equal + 1]
    i = np.where(a < n, a, b).astype(np.int64)
    j = (np.where(a < n, b, a) - n).astype(np.int64)
    by_i = np.argsort(i, kind="stable")
    return i[by_i], j[by_i]
