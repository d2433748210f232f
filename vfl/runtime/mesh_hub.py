"""A participant's hub when every participant of a simulated job is its own process.

Each pair of participants shares a pipe (a full mesh: a job has a handful of them), so an
envelope crosses one pipe, as protobuf bytes, straight to its recipient; the simulator's
parent process only starts, stops and aborts. Every peer pipe and the parent's control
pipe is read by a `take` that waits, or else by a pump thread: peers send large tensors
at the same time, and a pipe nobody drains would deadlock them. Waiting on pipes releases
the GIL, so the pump costs the program thread nothing while no message is due.

A received envelope must come from the peer at the other end of its pipe: a party cannot
post mail in another's name, as the relay checks in a deployment.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from multiprocessing.connection import Connection, wait
from typing import cast

from vfl.errors import PeerUnavailableError, ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.runtime.hub_channel import HubChannel
from vfl.runtime.mailboxes import Mailboxes
from vfl.runtime.sealing import EnvelopeSealer

_ONE_HEADER_MAX = 0x7FFFFFFF
"""The largest body `send_bytes` frames with a 4-byte length (larger: another header)."""

PUMP_AFTER_S = 0.05
"""The pump reads only after this long without a `take`: while a program takes message
after message, it reads its own pipes and no thread hands it anything; a pipe is drained
within this delay when the program sends or computes for longer."""

ControlHandler = Callable[[bytes | None], None]
"""Gets each frame from the parent's pipe, then None once when that pipe closes."""


class MeshHub:
    """One participant's mailboxes, fed by its peers' pipes (`Hub` for `HubChannel`).

    Whoever holds the reading turn reads every pipe: a `take` waiting for its message
    (it wakes on the message itself, with no hand-off between threads), or else, after
    `PUMP_AFTER_S` without one, the pump thread, so that pipes drain while the program
    computes or sends. A `take` that wants the turn while the pump holds it wakes the pump
    through a pipe of its own."""

    def __init__(
        self,
        party: str,
        peers: Mapping[str, Connection],
        control: Connection,
        on_control: ControlHandler,
    ) -> None:
        self.party = party
        self._mail: Mailboxes[Envelope] = Mailboxes()
        self._peers = dict(peers)
        self._locks = {name: threading.Lock() for name in peers}
        self._control = control
        self._on_control = on_control
        self._names = {id(conn): name for name, conn in self._peers.items()}
        self._open: list[Connection] = [control, *self._peers.values()]
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._turn = threading.Condition()
        self._takers = 0
        """Takes waiting for or holding the reading turn; the pump yields it to them."""
        self._reader: str | None = None
        """Who reads the pipes now: "take", "pump" or nobody."""
        self._last_take = time.monotonic()
        self._pump = threading.Thread(target=self._pump_loop, name=f"mesh-{party}", daemon=True)
        self._pump.start()

    def channel(self, sealer: EnvelopeSealer | None = None) -> MeshChannel:
        return MeshChannel(self, self.party, sealer)

    def abort(self, job_id: str, reason: str) -> None:
        self._mail.abort(job_id, reason)
        self._wake()

    def post(self, envelope: Envelope) -> None:
        if envelope.dst == self.party:
            self._mail.put(_key(envelope), envelope)
            self._wake()
            return
        conn = self._peers.get(envelope.dst)
        if conn is None:
            raise PeerUnavailableError(f"job {envelope.job_id} has no participant {envelope.dst}")
        try:
            with self._locks[envelope.dst]:
                send_whole(conn, envelope.to_bytes())
        except OSError:  # its process ended; the parent reports why
            raise PeerUnavailableError(f"{envelope.dst}'s process is gone") from None

    def take(self, job_id: str, src: str, dst: str, seq: str, timeout: float) -> Envelope:
        key = (job_id, src, dst, seq)
        found = self._mail.take_now(key)
        if found is not None:
            return found
        deadline = time.monotonic() + timeout
        with self._turn:
            self._takers += 1
        try:
            while True:
                found = self._mail.take_now(key)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PeerUnavailableError(
                        f"no message {seq} from {src} within {timeout:.0f} s (job {job_id})"
                    )
                if self._claim("take", remaining):
                    try:
                        self._read_ready(remaining)
                    finally:
                        self._yield_turn()
        finally:
            with self._turn:
                self._takers -= 1
                self._last_take = time.monotonic()
                self._turn.notify_all()

    def _claim(self, who: str, timeout: float | None) -> bool:
        """Take the reading turn if it is free; else wait (up to `timeout`) for news."""
        with self._turn:
            if self._reader is None:
                self._reader = who
                return True
            if self._reader == "pump":
                self._wake()
            self._turn.wait(timeout)
            return False

    def _yield_turn(self) -> None:
        with self._turn:
            self._reader = None
            self._turn.notify_all()

    def _pump_loop(self) -> None:
        # It polls its chance on a timer: a condition it waited on would be notified at
        # the end of every take and contend for the GIL with the program at every message.
        while self._open:
            with self._turn:
                idle = time.monotonic() - self._last_take
                mine = not self._takers and self._reader is None and idle >= PUMP_AFTER_S
                if mine:
                    self._reader = "pump"
            if not mine:
                time.sleep(PUMP_AFTER_S)
                continue
            try:
                self._read_ready(None)
            finally:
                self._yield_turn()

    def _read_ready(self, timeout: float | None) -> None:
        """Wait up to `timeout` for any pipe, read what is ready, file it, tell the takes."""
        for ready in wait([*self._open, self._wake_r], timeout):
            if ready == self._wake_r:
                with suppress(BlockingIOError):
                    os.read(self._wake_r, 4096)
                continue
            conn = cast(Connection, ready)  # wait returns the objects it was given
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):
                self._open.remove(conn)
                if conn is self._control:
                    self._on_control(None)
                continue
            if conn is self._control:
                self._on_control(data)
            else:
                self._deliver(self._names[id(conn)], data)

    def _wake(self) -> None:
        """End the reader's wait on the pipes: it re-reads the mailboxes or yields."""
        with suppress(BlockingIOError):
            os.write(self._wake_w, b"\0")

    def _deliver(self, peer: str, data: bytes) -> None:
        envelope = Envelope.from_bytes(data)
        if envelope.src != peer or envelope.dst != self.party:
            # a wrong sender or recipient is a broken peer: fail the job, never file it
            reason = f"{peer} sent an envelope from {envelope.src} to {envelope.dst}"
            self._mail.abort(envelope.job_id, str(ProtocolError(reason)))
            return
        self._mail.put(_key(envelope), envelope)


def send_whole(conn: Connection, data: bytes) -> None:
    """`conn.send_bytes(data)` in one write of header and body where the pipe takes it.

    `send_bytes` writes the length header alone before any body over 16 KiB (a cut-layer
    batch of 256 × 16 floats is just over): the reader wakes on the header, then waits
    again for the body, two hand-offs per message. The framing is `send_bytes`' own, so
    the reader's `recv_bytes` is unchanged."""
    if len(data) > _ONE_HEADER_MAX:
        conn.send_bytes(data)
        return
    view = memoryview(struct.pack("!i", len(data)) + data)
    while view:
        view = view[os.write(conn.fileno(), view) :]


def _key(envelope: Envelope) -> tuple[str, ...]:
    return (envelope.job_id, envelope.src, envelope.dst, envelope.seq)


class MeshChannel(HubChannel):
    """A participant's `Channel` on its `MeshHub`."""
