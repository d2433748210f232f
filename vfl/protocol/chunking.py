"""Envelopes travel as ordered slices on one stream, so no body hits gRPC's 4 MiB limit.

Both ends use this module: the sender slices, the receiver reassembles and enforces the
size limit as bytes arrive (an oversized transfer is refused at its first slice when the
sender announces the total, and at the latest when the running total passes the limit).
The coordinator also bounds what one stream holds in incomplete transfers, in bytes and
in idle time: an honest party sends one transfer's slices back to back, so only a broken
or hostile one leaves transfers open.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from vfl.errors import ProtocolError
from vfl.protocol.v1 import coordinator_pb2 as pb

MAX_OPEN_TRANSFERS = 8


def slices(data: bytes, transfer_id: int, chunk_bytes: int) -> Iterator[pb.Chunk]:
    count = max(1, -(-len(data) // chunk_bytes))
    for i in range(count):
        yield pb.Chunk(
            transfer_id=transfer_id,
            index=i,
            last=i == count - 1,
            data=data[i * chunk_bytes : (i + 1) * chunk_bytes],
            total_bytes=len(data) if i == 0 else 0,
        )


class ChunkAssembler:
    """Reassembles transfers slice by slice; raises ProtocolError naming the transfer.

    `max_open_bytes` bounds the bytes held by all incomplete transfers together;
    `idle_s` is how long an incomplete transfer may wait for its next slice before
    `expire` drops it. Neither is checked when left None (the party's side).
    """

    def __init__(
        self,
        max_bytes: int,
        max_open_bytes: int | None = None,
        idle_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_open_bytes = max_open_bytes
        self.idle_s = idle_s
        self._clock = clock
        self._parts: dict[int, list[bytes]] = {}
        self._sizes: dict[int, int] = {}
        self._touched: dict[int, float] = {}

    @property
    def open_bytes(self) -> int:
        """Bytes held by incomplete transfers."""
        return sum(self._sizes.values())

    def add(self, chunk: pb.Chunk) -> bytes | None:
        """The whole body once `chunk` completes its transfer, else None."""
        tid = chunk.transfer_id
        parts = self._parts.get(tid)
        if parts is None:
            if chunk.index != 0:
                raise ProtocolError(f"transfer {tid}: starts at slice {chunk.index}, expected 0")
            if len(self._parts) >= MAX_OPEN_TRANSFERS:
                raise ProtocolError(f"transfer {tid}: more than {MAX_OPEN_TRANSFERS} open at once")
            self._check_size(tid, chunk.total_bytes)
            self._check_open(tid, chunk.total_bytes)
            parts = self._parts[tid] = []
            self._sizes[tid] = 0
        elif chunk.index != len(parts):
            self.discard(tid)
            raise ProtocolError(f"transfer {tid}: slice {chunk.index} out of order")
        try:
            self._check_open(tid, len(chunk.data))
            self._sizes[tid] += len(chunk.data)
            self._check_size(tid, self._sizes[tid])
        except ProtocolError:
            self.discard(tid)
            raise
        parts.append(chunk.data)
        self._touched[tid] = self._clock()
        if not chunk.last:
            return None
        self.discard(tid)
        return b"".join(parts)

    def expire(self) -> list[int]:
        """Drop incomplete transfers idle for more than `idle_s`; their ids."""
        if self.idle_s is None:
            return []
        cutoff = self._clock() - self.idle_s
        stale = [tid for tid, at in self._touched.items() if at < cutoff]
        for tid in stale:
            self.discard(tid)
        return stale

    def discard(self, transfer_id: int) -> None:
        self._parts.pop(transfer_id, None)
        self._sizes.pop(transfer_id, None)
        self._touched.pop(transfer_id, None)

    def _check_size(self, tid: int, size: int) -> None:
        if size > self.max_bytes:
            raise ProtocolError(
                f"transfer {tid}: envelope of {size} bytes exceeds the relay limit of "
                f"{self.max_bytes} bytes; raise relay.max_message_bytes or send smaller messages"
            )

    def _check_open(self, tid: int, more: int) -> None:
        held = self.open_bytes
        if self.max_open_bytes is not None and held + more > self.max_open_bytes:
            raise ProtocolError(
                f"transfer {tid}: open transfers would hold {held + more} bytes, over "
                f"limits.open_transfer_bytes = {self.max_open_bytes}; finish a transfer first"
            )
