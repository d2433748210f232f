"""In-process transport: every party of a simulated job shares one hub.

Envelopes are still serialised to bytes, so byte counts, message decoding and checks are
exactly those of a deployment; only the socket is missing. A channel may be given a real
sealer, so the sealing code path of a deployment runs (and is tested) without sockets.
"""

from __future__ import annotations

import threading
import time

from vfl.errors import JobAbortedError, PeerUnavailableError, ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.runtime.sealing import EnvelopeSealer, NoSealing

_Key = tuple[str, str, str, str]  # job, src, dst, seq


class InMemoryHub:
    """Mailboxes keyed by (job, src, dst, seq); `abort` wakes every waiter of a job."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._mail: dict[_Key, bytes] = {}
        self._delivered: set[_Key] = set()
        self._aborted: dict[str, str] = {}

    def channel(self, party: str, sealer: EnvelopeSealer | None = None) -> InMemoryChannel:
        return InMemoryChannel(self, party, sealer)

    def abort(self, job_id: str, reason: str) -> None:
        with self._cond:
            self._aborted.setdefault(job_id, reason)
            self._cond.notify_all()

    def pending(self, job_id: str) -> int:
        """Envelopes posted for the job and not yet received (0 after a clean run)."""
        with self._cond:
            return sum(1 for key in self._mail if key[0] == job_id)

    def post(self, envelope: Envelope) -> None:
        key = (envelope.job_id, envelope.src, envelope.dst, envelope.seq)
        data = envelope.to_bytes()
        with self._cond:
            if key in self._delivered or key in self._mail:
                return  # a duplicate delivery; the first copy wins
            self._mail[key] = data
            self._cond.notify_all()

    def take(self, job_id: str, src: str, dst: str, seq: str, timeout: float) -> Envelope:
        key = (job_id, src, dst, seq)
        deadline = time.monotonic() + timeout
        with self._cond:
            while key not in self._mail:
                if job_id in self._aborted:
                    raise JobAbortedError(f"job {job_id} aborted: {self._aborted[job_id]}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PeerUnavailableError(
                        f"no message {seq} from {src} within {timeout:.0f} s (job {job_id})"
                    )
                self._cond.wait(remaining)
            data = self._mail.pop(key)
            self._delivered.add(key)
        return Envelope.from_bytes(data)


class InMemoryChannel:
    """A party's handle on an `InMemoryHub`."""

    def __init__(self, hub: InMemoryHub, party: str, sealer: EnvelopeSealer | None = None) -> None:
        self._hub = hub
        self._party = party
        self._sealer: EnvelopeSealer = sealer or NoSealing()

    @property
    def party(self) -> str:
        return self._party

    @property
    def sealing(self) -> str:
        return self._sealer.name

    def send(self, envelope: Envelope) -> None:
        if envelope.src != self._party:
            raise ProtocolError(f"party {self._party} cannot send as {envelope.src}")
        self._hub.post(self._sealer.seal(envelope))

    def recv(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        return self._sealer.open(self._hub.take(job_id, src, self._party, seq, timeout))
