"""A Channel between two local processes over a multiprocessing pipe, for `vfl psi` runs.

`vfl psi` and `benchmarks/psi.py` run each party in its own process so that wall time,
bytes and peak memory are each party's own. Envelopes cross the pipe as protobuf bytes
(`send_bytes`, never pickle). A reader thread drains the pipe continuously: both parties
send large vectors at the same time, and a pipe nobody reads would deadlock them.
"""

from __future__ import annotations

import threading
import time
from multiprocessing.connection import Connection

from vfl.errors import PeerUnavailableError, ProtocolError
from vfl.protocol.envelope import Envelope


class PipeChannel:
    def __init__(self, party: str, conn: Connection) -> None:
        self._party = party
        self._conn = conn
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self._mail: dict[tuple[str, str, str], Envelope] = {}
        self._closed = False
        self._reader = threading.Thread(target=self._read, name=f"pipe-{party}", daemon=True)
        self._reader.start()

    @property
    def party(self) -> str:
        return self._party

    @property
    def sealing(self) -> str:
        return "none"  # a pipe between two local processes: no relay in between

    def _read(self) -> None:
        try:
            while True:
                envelope = Envelope.from_bytes(self._conn.recv_bytes())
                with self._cond:
                    self._mail[(envelope.job_id, envelope.src, envelope.seq)] = envelope
                    self._cond.notify_all()
        except (EOFError, OSError):
            with self._cond:
                self._closed = True
                self._cond.notify_all()

    def send(self, envelope: Envelope) -> None:
        if envelope.src != self._party:
            raise ProtocolError(f"party {self._party} cannot send as {envelope.src}")
        try:
            with self._send_lock:
                self._conn.send_bytes(envelope.to_bytes())
        except OSError:  # the peer's process ended (it failed and reported why)
            raise PeerUnavailableError(f"{envelope.dst} closed the connection") from None

    def recv(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        key = (job_id, src, seq)
        deadline = time.monotonic() + timeout
        with self._cond:
            while key not in self._mail:
                remaining = deadline - time.monotonic()
                if self._closed:
                    raise PeerUnavailableError(f"{src} closed the connection (job {job_id})")
                if remaining <= 0:
                    raise PeerUnavailableError(
                        f"no message {seq} from {src} within {timeout:.0f} s (job {job_id})"
                    )
                self._cond.wait(remaining)
            return self._mail.pop(key)
