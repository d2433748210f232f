"""Frames from the peer put back in order, each once, for spu's pop.

The party channel already delivers each sequence number once and in order, but the shim
does not rely on it: spu's link breaks on a lost, repeated or reordered message, so the
buffer keeps frames by index, drops repeats and holds early ones until the gap fills. A
peer can make it hold at most `max_ahead` frames beyond the next one.
"""

from __future__ import annotations

import threading
from collections import deque

from psi.rr22.messages import MAX_FRAME_BYTES, Frame
from vfl.errors import ProtocolError


class FrameBuffer:
    """The peer's frames, released to `take` in index order; `done` once its end came."""

    def __init__(self, peer: str, max_ahead: int = 64) -> None:
        self._peer = peer
        self._max_ahead = max_ahead
        self._next = 0
        self._early: dict[int, Frame] = {}
        self._ready: deque[bytes] = deque()
        self._end: int | None = None
        self.peer_failed = False
        self._cond = threading.Condition()

    def put(self, frame: Frame) -> None:
        """Accept one frame as the relay delivered it (late, repeated or early)."""
        where = f"rr22.Frame {frame.index} from {self._peer}"
        if len(frame.data) > MAX_FRAME_BYTES:
            raise ProtocolError(
                f"{where}: {len(frame.data)} bytes, more than {MAX_FRAME_BYTES}; a correct peer "
                "never sends that"
            )
        with self._cond:
            if frame.index < self._next or frame.index in self._early:
                return  # a repeat: the first copy counts
            if frame.index >= self._next + self._max_ahead:
                raise ProtocolError(
                    f"{where}: {frame.index - self._next} frames ahead of the next expected "
                    f"({self._next}); at most {self._max_ahead} are held"
                )
            if self._end is not None and frame.index > self._end:
                raise ProtocolError(f"{where}: after its end frame ({self._end})")
            self._early[frame.index] = frame
            while self._next in self._early:
                head = self._early.pop(self._next)
                if head.end:
                    self._end = head.index
                    self.peer_failed = head.failed
                    self._early.clear()
                    break
                self._ready.append(head.data)
                self._next += 1
            self._cond.notify_all()

    def take(self, timeout: float) -> bytes | None:
        """The next message for spu, or None if none came within `timeout` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._ready), timeout)
            if not self._ready:
                return None
            data = self._ready.popleft()
            self._cond.notify_all()
            return data

    def give_back(self, data: bytes) -> None:
        """`data`, just taken, first again: the pop that took it was given up by spu."""
        with self._cond:
            self._ready.appendleft(data)
            self._cond.notify_all()

    def wait_room(self, timeout: float) -> bool:
        """Whether spu has fewer than `max_ahead` messages left to pop (else the receiver
        stops taking frames off the channel: spu's slowness, not the peer's, bounds us)."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._ready) < self._max_ahead, timeout)

    @property
    def done(self) -> bool:
        """The peer's end frame and every frame before it arrived."""
        with self._cond:
            return self._end is not None

    def wait_done(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._end is not None, timeout)
