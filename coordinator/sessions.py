"""Connected parties: one session per party stream, each with its own outbound queue.

The servicer's generator drains the queue onto the wire; the relay and the job lifecycle
only ever put messages into it.

One live session per party. A session is live while it is not closed, its gRPC call is
still active, and the party was heard from (any message, heartbeats included) within the
silence limit. A second connection under the same identity is refused while the first is
live, so two nodes with one certificate cannot take the session from each other; once the
first is dead (closed, its call cancelled, or silent too long, as after a crash whose TCP
connection never closed) a new connection replaces it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable

from vfl.protocol.v1 import coordinator_pb2 as pb

_CLOSE = pb.CoordinatorMessage()  # a sentinel object, compared by identity


class PartySession:
    """One party stream: its outbound queue, mail signal and liveness."""

    def __init__(
        self, party: str, max_queued: int = 256, active: Callable[[], bool] = lambda: True
    ) -> None:
        self.party = party
        self.serial = 0  # its certificate's serial, checked against the CRL while it lives
        self._active = active  # the gRPC call's is_active
        self._heard = time.monotonic()
        self._out: queue.Queue[pb.CoordinatorMessage] = queue.Queue(maxsize=max_queued)
        self.mail = threading.Event()  # set when mail for this party was stored
        self.closed = threading.Event()

    def put(self, msg: pb.CoordinatorMessage, timeout: float | None = None) -> bool:
        """Queue `msg`; False if the session closed first (the message will be resent)."""
        while not self.closed.is_set():
            try:
                self._out.put(msg, timeout=0.5 if timeout is None else timeout)
                return True
            except queue.Full:
                if timeout is not None:
                    return False
        return False

    def heard(self) -> None:
        """The party sent something: it is alive."""
        self._heard = time.monotonic()

    def silent_for(self) -> float:
        return time.monotonic() - self._heard

    def alive(self, silence_s: float) -> bool:
        """Live by the rule in the module docstring."""
        return not self.closed.is_set() and self._active() and self.silent_for() <= silence_s

    def next(self) -> pb.CoordinatorMessage | None:
        """The next message to write, or None once the session is closed."""
        while True:
            try:
                msg = self._out.get(timeout=0.5)
            except queue.Empty:
                if self.closed.is_set():
                    return None
                continue
            return None if msg is _CLOSE else msg

    def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            self.mail.set()
            with contextlib.suppress(queue.Full):
                self._out.put_nowait(_CLOSE)


class SessionRegistry:
    """The live session of each connected party, at most one per party."""

    def __init__(self, silence_s: float = 30.0) -> None:
        self.silence_s = silence_s
        self._lock = threading.Lock()
        self._sessions: dict[str, PartySession] = {}

    def claim(self, session: PartySession) -> bool:
        """Make `session` its party's session; False while another one is still live."""
        with self._lock:
            old = self._sessions.get(session.party)
            if old is not None and old.alive(self.silence_s):
                return False
            self._sessions[session.party] = session
        if old is not None:
            old.close()  # dead already; closing frees its threads
        return True

    def remove(self, session: PartySession) -> None:
        with self._lock:
            if self._sessions.get(session.party) is session:
                del self._sessions[session.party]
        session.close()

    def get(self, party: str) -> PartySession | None:
        with self._lock:
            return self._sessions.get(party)

    def connected(self) -> set[str]:
        with self._lock:
            return set(self._sessions)

    def wake(self, party: str) -> None:
        session = self.get(party)
        if session is not None:
            session.mail.set()

    def close_all(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            session.close()
