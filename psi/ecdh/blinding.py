"""Blinding whole ID sets and received vectors on all cores, chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import numpy as np
from numpy.typing import NDArray

from psi.ecdh.group import POINT_BYTES, blind, hash_and_blind
from psi.ids import IdSource
from psi.parallel import GroupPool

TASK = 4096
"""IDs per worker task: ~0.2 s of work, small next to the pickling and scheduling cost."""

Progress = Callable[[int], None]


def _noop(_: int) -> None:
    return None


def _as_rows(buffer: bytearray) -> NDArray[np.uint8]:
    return np.frombuffer(buffer, dtype=np.uint8).reshape(-1, POINT_BYTES)


def blind_ids(
    pool: GroupPool, source: IdSource, scalar: bytes, progress: Progress = _noop
) -> NDArray[np.uint8]:
    """H(id)^scalar for every ID of `source`, in its order, as an (n, 32) array."""

    def tasks() -> Iterator[list[str]]:
        for chunk in source.chunks():
            for start in range(0, len(chunk), TASK):
                yield chunk[start : start + TASK]

    out = bytearray()
    for result in pool.map(partial(hash_and_blind, scalar=scalar), tasks()):
        out += result
        progress(len(result) // POINT_BYTES)
    return _as_rows(out)


def reblind(
    pool: GroupPool, points: NDArray[np.uint8], scalar: bytes, progress: Progress = _noop
) -> NDArray[np.uint8]:
    """P^scalar for every row of an (n, 32) array of a peer's points, in order."""
    flat = np.ascontiguousarray(points)
    tasks = (flat[s : s + TASK].tobytes() for s in range(0, len(flat), TASK))
    out = bytearray()
    for result in pool.map(partial(blind, scalar=scalar), tasks):
        out += result
        progress(len(result) // POINT_BYTES)
    return _as_rows(out)
