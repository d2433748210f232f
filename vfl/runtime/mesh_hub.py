"""A participant's hub when every participant of a simulated job is its own process.

Each pair of participants shares a pipe (a full mesh: a job has a handful of them), so an
envelope crosses one pipe, as protobuf bytes, straight to its recipient; the simulator's
parent process only starts, stops and aborts. One pump thread per process reads every
peer pipe and the parent's control pipe: peers send large tensors at the same time, and
a pipe nobody drains would deadlock them. Waiting on pipes releases the GIL, so the pump
costs the program thread nothing while no message is due.

A received envelope must come from the peer at the other end of its pipe: a party cannot
post mail in another's name, as the relay checks in a deployment.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection, wait
from typing import cast

from vfl.errors import PeerUnavailableError, ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.runtime.hub_channel import HubChannel
from vfl.runtime.mailboxes import Mailboxes
from vfl.runtime.sealing import EnvelopeSealer

_ONE_HEADER_MAX = 0x7FFFFFFF
"""The largest body `send_bytes` frames with a 4-byte length (larger: another header)."""

ControlHandler = Callable[[bytes | None], None]
"""Gets each frame from the parent's pipe, then None once when that pipe closes."""


class MeshHub:
    """One participant's mailboxes, fed by its peers' pipes (`Hub` for `HubChannel`)."""

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
        self._pump = threading.Thread(target=self._read, name=f"mesh-{party}", daemon=True)
        self._pump.start()

    def channel(self, sealer: EnvelopeSealer | None = None) -> MeshChannel:
        return MeshChannel(self, self.party, sealer)

    def abort(self, job_id: str, reason: str) -> None:
        self._mail.abort(job_id, reason)

    def post(self, envelope: Envelope) -> None:
        if envelope.dst == self.party:
            self._mail.put(_key(envelope), envelope)
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
        return self._mail.take((job_id, src, dst, seq), timeout, f"message {seq} from {src}")

    def _read(self) -> None:
        names = {id(conn): name for name, conn in self._peers.items()}
        open_conns: list[Connection] = [self._control, *self._peers.values()]
        while open_conns:
            for ready in wait(open_conns):
                conn = cast(Connection, ready)  # wait returns the objects it was given
                try:
                    data = conn.recv_bytes()
                except (EOFError, OSError):
                    open_conns.remove(conn)
                    if conn is self._control:
                        self._on_control(None)
                    continue
                if conn is self._control:
                    self._on_control(data)
                else:
                    self._deliver(names[id(conn)], data)

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
