"""Connected parties: one session per party stream, each with its own outbound queue.

The servicer's generator drains the queue onto the wire; the relay and the job lifecycle
only ever put messages into it. A party that reconnects replaces its old session.
"""

from __future__ import annotations

import contextlib
import queue
import threading

from vfl.protocol.v1 import coordinator_pb2 as pb

_CLOSE = pb.CoordinatorMessage()  # a sentinel object, compared by identity


class PartySession:
    def __init__(self, party: str, max_queued: int = 256) -> None:
        self.party = party
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
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, PartySession] = {}

    def add(self, session: PartySession) -> None:
        with self._lock:
            old = self._sessions.get(session.party)
            self._sessions[session.party] = session
        if old is not None:
            old.close()

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
