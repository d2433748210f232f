"""Send a long vector of fixed-width rows as a series of bounded messages.

A 10M-ID set is 320 MB of points; one message that size would hit every transport limit
and double peak memory. Each protocol message that carries a vector subclasses `Chunk`
(so its kind still says what it is) and travels `CHUNK_ROWS` rows at a time. The receiver
checks the declared total against a limit before allocating, and that offsets follow on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeVar

import numpy as np
from numpy.typing import NDArray

from vfl.errors import ProtocolError
from vfl.protocol.serde import kind_of
from vfl.protocol.types import TensorSpec
from vfl.runtime.context import PartyContext

CHUNK_ROWS = 1 << 16
MAX_ROWS = 1 << 28
"""Largest vector a peer may announce (268M rows), checked before allocating."""


@dataclass(frozen=True)
class Chunk:
    """Rows [offset, offset + len(data)) of a vector of `total` rows."""

    total: int
    offset: int
    data: Annotated[np.ndarray, TensorSpec("uint8", 2)]


_C = TypeVar("_C", bound=Chunk)


def send_rows(
    ctx: PartyContext,
    to: str,
    cls: type[_C],
    rows: NDArray[np.uint8],
    chunk: int = CHUNK_ROWS,
    order: NDArray[np.int64] | None = None,
) -> None:
    """Send `rows` (or `rows[order]`, permuted chunk by chunk without a full copy)."""
    total = len(rows)
    for start in range(0, max(total, 1), chunk):
        part = rows[start : start + chunk] if order is None else rows[order[start : start + chunk]]
        ctx.send(to, cls(total=total, offset=start, data=part))


def recv_rows(
    ctx: PartyContext,
    frm: str,
    cls: type[_C],
    width: int,
    limit: int = MAX_ROWS,
    bound: str = "",
) -> NDArray[np.uint8]:
    """The whole vector; more than `limit` rows is refused before allocating, with `bound`
    (what the limit is) in the message."""
    kind = kind_of(cls)
    first = ctx.recv(frm, cls)
    if not 0 <= first.total <= limit:
        why = bound or f"limit {limit}"
        raise ProtocolError(f"{kind} from {frm}: announces {first.total} rows, {why}")
    out = np.empty((first.total, width), dtype=np.uint8)
    msg, done = first, 0
    while True:
        rows = len(msg.data)
        if msg.total != first.total or msg.offset != done or done + rows > first.total:
            raise ProtocolError(
                f"{kind} from {frm}: chunk at offset {msg.offset} with {rows} rows does not "
                f"continue {done} of {first.total}"
            )
        if msg.data.shape[1] != width and rows:
            raise ProtocolError(
                f"{kind} from {frm}: rows of {msg.data.shape[1]} bytes, not {width}"
            )
        out[done : done + rows] = msg.data
        done += rows
        if done == first.total:
            return out
        if rows == 0:
            raise ProtocolError(f"{kind} from {frm}: empty chunk before the end")
        msg = ctx.recv(frm, cls)


def positions_to_rows(positions: NDArray[np.int64]) -> NDArray[np.uint8]:
    return np.ascontiguousarray(positions.astype("<i8")).view(np.uint8).reshape(-1, 8)


def rows_to_positions(rows: NDArray[np.uint8]) -> NDArray[np.int64]:
    return np.ascontiguousarray(rows).view("<i8").reshape(-1).astype(np.int64)
