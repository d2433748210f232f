"""Admission to `Party.Connect`: how many streams may be open, and how long Hello may take.

Each party stream holds one gRPC worker for its whole life (the sync server runs the
response generator on a pool thread), so a certificate holder could otherwise take every
worker with streams that never speak. The gate caps open streams below the server's
call limit, leaving workers for admin calls, and bounds the wait for Hello.

Why a helper thread for Hello: the sync server's request iterator has no read timeout,
and the servicer cannot set a deadline on its own call. So one short-lived thread does the
blocking read and hands the result over a queue; the worker waits on the queue with a
timeout. When it gives up it aborts the call, which ends the blocked read too (gRPC
cancels the call's pending receive), so the helper thread exits as well.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from coordinator.errors import BusyError, HelloTimeoutError
from vfl.protocol.v1 import coordinator_pb2 as pb

_Read = tuple[pb.PartyMessage | None, BaseException | None]


class StreamGate:
    """Counts open party streams and reads each one's first message with a deadline."""

    def __init__(self, max_streams: int, hello_timeout_s: float) -> None:
        self.max_streams = max_streams
        self.hello_timeout_s = hello_timeout_s
        self._slots = threading.BoundedSemaphore(max_streams)

    def enter(self) -> None:
        """Take a stream slot, or raise BusyError at once."""
        if not self._slots.acquire(blocking=False):
            raise BusyError(
                f"coordinator: {self.max_streams} party streams are open "
                "(limits.max_party_streams); retry later or raise the limit"
            )

    def leave(self) -> None:
        self._slots.release()

    def first(self, requests: Iterator[pb.PartyMessage]) -> pb.PartyMessage | None:
        """The stream's first message (None if it ended), or HelloTimeoutError."""
        box: queue.Queue[_Read] = queue.Queue(maxsize=1)

        def read() -> None:
            try:
                box.put((next(requests, None), None))
            except BaseException as exc:  # handed to the waiting worker, which decides
                box.put((None, exc))

        threading.Thread(target=read, name="hello-read", daemon=True).start()
        try:
            message, error = box.get(timeout=self.hello_timeout_s)
        except queue.Empty:
            raise HelloTimeoutError(
                f"party stream: no Hello within {self.hello_timeout_s:g} s "
                "(limits.hello_timeout_s); the party must send Hello first"
            ) from None
        if error is not None:
            raise error
        return message
