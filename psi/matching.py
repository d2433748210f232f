"""Vectorised set operations on fixed-width pseudo-random keys (blinded values, tags).

A dict of 10M byte strings costs ~1 GB; sorting one uint64 column costs a quarter of that
and stays in numpy. Keys are the first 16 bytes of a blinded value or tag, so a false
match needs a 128-bit collision (about 2^-80 at 10M x 10M). Rows are sorted on their
first 8 bytes only (half the memory of a two-column sort); rows whose first 8 bytes tie
are then compared on all 16, and the rare runs of three or more ties go through a dict.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

KEY_BYTES = 16


def _first_words(rows: NDArray[np.uint8]) -> NDArray[np.uint64]:
    if rows.ndim != 2 or rows.shape[1] < KEY_BYTES:
        raise ValueError(f"keys need shape (n, >= {KEY_BYTES}), got {rows.shape}")
    return np.ascontiguousarray(rows[:, :8]).view(np.uint64).reshape(-1)


def _key(rows: NDArray[np.uint8], i: int) -> bytes:
    return rows[i, :KEY_BYTES].tobytes()


def _tied_pairs(
    words: NDArray[np.uint64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], list[NDArray[np.int64]]]:
    """Adjacent (a, b) positions whose first words tie, and the runs of three or more."""
    order = np.argsort(words, kind="stable")
    ties = np.flatnonzero(words[order][1:] == words[order][:-1])
    if len(ties) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), []
    long_run = np.zeros(len(ties), dtype=bool)
    long_run[1:] |= np.diff(ties) == 1  # a tie continuing the previous one
    long_run[:-1] |= np.diff(ties) == 1
    runs: list[NDArray[np.int64]] = []
    if long_run.any():
        starts = ties[long_run]
        for group in np.split(starts, np.flatnonzero(np.diff(starts) != 1) + 1):
            runs.append(order[group[0] : group[-1] + 2].astype(np.int64))
    pairs = ties[~long_run]
    return order[pairs].astype(np.int64), order[pairs + 1].astype(np.int64), runs


def duplicate_count(rows: NDArray[np.uint8]) -> int:
    """How many rows repeat an earlier row (0 when all keys are distinct)."""
    if len(rows) < 2:
        return 0
    a, b, runs = _tied_pairs(_first_words(rows))
    keys = np.ascontiguousarray(rows[:, :KEY_BYTES])
    count = int(np.count_nonzero((keys[a] == keys[b]).all(axis=1)))
    for run in runs:
        distinct = {_key(rows, int(i)) for i in run}
        count += len(run) - len(distinct)
    return count


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
    a, b, runs = _tied_pairs(np.concatenate([_first_words(left), _first_words(right)]))

    def row(k: int) -> bytes:
        return _key(left, k) if k < n else _key(right, k - n)

    # Each side is distinct, so a true match is one left and one right row.
    cross = (a < n) != (b < n)
    a, b = a[cross], b[cross]
    i = np.where(a < n, a, b)
    j = np.where(a < n, b, a) - n
    same = (left[i, :KEY_BYTES] == right[j, :KEY_BYTES]).all(axis=1)
    i, j = i[same], j[same]
    extra_i, extra_j = [], []
    for run in runs:
        lefts = {row(int(k)): int(k) for k in run if k < n}
        for k in run:
            if k >= n and (hit := lefts.get(row(int(k)))) is not None:
                extra_i.append(hit)
                extra_j.append(int(k) - n)
    i = np.concatenate([i, np.array(extra_i, dtype=np.int64)])
    j = np.concatenate([j, np.array(extra_j, dtype=np.int64)])
    by_i = np.argsort(i, kind="stable")
    return i[by_i].astype(np.int64), j[by_i].astype(np.int64)
