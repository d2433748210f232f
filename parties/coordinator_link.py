"""The party's one outbound stream to the coordinator, kept alive across failures.

Everything the party sends is an ordered, numbered item that stays pending until the
coordinator acknowledges it: envelopes (in slices), reports, phase results, approvals.
After a reconnect every pending item is sent again, in order; the coordinator stores each
idempotently, so a resend after a lost acknowledgement changes nothing. Deliveries are
confirmed only after the inbox stored them durably, so none is lost to a crash either.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import grpc

from vfl.errors import JobEndedError, ProtocolError
from vfl.protocol import version
from vfl.protocol.chunking import ChunkAssembler, slices
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)
DEFAULT_CHUNK = 1 << 20
FULL_RETRY_S = 0.05
_REFUSED = (
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.ALREADY_EXISTS,  # another node runs with this party's certificate
    grpc.StatusCode.RESOURCE_EXHAUSTED,  # the coordinator is at limits.max_party_streams
    grpc.StatusCode.FAILED_PRECONDITION,  # another protocol version: the line says who upgrades
)


class Refresh(Protocol):
    """The credentials and Hello statement to connect with, and whether they changed."""

    def __call__(self) -> tuple[grpc.ChannelCredentials, pb.SealingKey | None]: ...

    def changed(self) -> bool: ...


@dataclass
class _Pending:
    id: int
    messages: list[pb.PartyMessage]
    done: threading.Event = field(default_factory=threading.Event)
    error: str = ""
    ended: bool = False
    """The coordinator refused it because the job is over (JobEndedError, not a fault)."""


class CoordinatorLink:
    def __init__(
        self,
        target: str,
        party: str,
        credentials: grpc.ChannelCredentials | None,
        datasets: Sequence[pb.Dataset],
        on_delivery: Callable[[bytes], None],
        on_job: Callable[[pb.JobUpdate], None],
        heartbeat_s: float = 5.0,
        reconnect_max_s: float = 10.0,
        sealing_key: pb.SealingKey | None = None,
        refresh: Refresh | None = None,
    ) -> None:
        self.target, self.party = target, party
        # re-reads the certificate before each connection; a renewal makes it reconnect
        self._refresh = refresh
        self._credentials = credentials
        self._datasets = list(datasets)
        self._sealing_key = sealing_key  # published in Hello; peers verify it, not the relay
        self._on_delivery, self._on_job = on_delivery, on_job
        self._heartbeat_s, self._reconnect_max_s = heartbeat_s, reconnect_max_s
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._queue: queue.Queue[pb.PartyMessage | None] | None = None
        self._stopped = threading.Event()
        self.connected = threading.Event()
        self.chunk_bytes = DEFAULT_CHUNK
        self._thread = threading.Thread(target=self._run, name=f"link-{party}", daemon=True)

    # -- public ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        threading.Thread(target=self._heartbeats, daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            if self._queue is not None:
                self._queue.put(None)
        for item in list(self._pending.values()):
            item.error = item.error or "party node stopped"
            item.done.set()

    def send_envelope(self, data: bytes) -> None:
        """Block until the coordinator stored `data`; ProtocolError if it refused it."""
        while True:
            tid = next(self._ids)
            messages = [pb.PartyMessage(chunk=c) for c in slices(data, tid, self.chunk_bytes)]
            item = self._submit(_Pending(tid, messages))
            self._wait(item)
            if item.error == "MAILBOX_FULL":
                self._stopped.wait(FULL_RETRY_S)  # back-pressure from a full mailbox
                continue
            if item.ended:
                raise JobEndedError(f"coordinator refused an envelope: {item.error}")
            if item.error:
                raise ProtocolError(f"coordinator refused an envelope: {item.error}")
            return

    def submit(self, message: pb.PartyMessage, wait: bool) -> None:
        """Send a report, phase result or approval; `message` gets its item_id here."""
        iid = next(self._ids)
        getattr(message, str(message.WhichOneof("kind"))).item_id = iid
        item = self._submit(_Pending(iid, [message]))
        if wait:
            self._wait(item)
            if item.error:
                raise ProtocolError(
                    f"coordinator refused {message.WhichOneof('kind')}: {item.error}"
                )

    # -- internals ---------------------------------------------------------------------
    def _submit(self, item: _Pending) -> _Pending:
        with self._lock:
            self._pending[item.id] = item
            if self._queue is not None:
                for m in item.messages:
                    self._queue.put(m)
        return item

    def _wait(self, item: _Pending) -> None:
        while not item.done.wait(1.0):
            if self._stopped.is_set():
                raise ProtocolError("party node stopped while waiting for the coordinator")

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopped.is_set():
            try:
                if self._refresh is not None:
                    self._credentials, self._sealing_key = self._refresh()
                if self._stream():
                    backoff = 0.1
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else None
                details = exc.details() if hasattr(exc, "details") else str(exc)
                if code in _REFUSED:  # the operator must act; say why in the coordinator's words
                    log.error("coordinator refused this party: %s", details)
                else:
                    log.info("coordinator unreachable (%s); retrying in %.1f s", code, backoff)
            except ProtocolError as exc:
                log.error("party stream: %s; reconnecting", exc)
            except Exception:
                log.exception("party stream failed; reconnecting")
            finally:
                self.connected.clear()
                with self._lock:
                    if self._queue is not None:
                        self._queue.put(None)
                    self._queue = None
            self._stopped.wait(backoff)
            backoff = min(backoff * 2, self._reconnect_max_s)

    def _stream(self) -> bool:
        options = [
            ("grpc.max_receive_message_length", 8 << 20),
            ("grpc.max_send_message_length", 8 << 20),
            ("grpc.keepalive_time_ms", 20_000),
        ]
        if self._credentials is None:
            channel = grpc.insecure_channel(self.target, options=options)
            metadata = [("vfl-identity", self.party)]
        else:
            channel = grpc.secure_channel(self.target, self._credentials, options=options)
            metadata = []
        with channel:
            out: queue.Queue[pb.PartyMessage | None] = queue.Queue()
            me = version.local("party")
            hello = pb.Hello(
                party=self.party,
                datasets=self._datasets,
                protocol_version=me.protocol,
                package_version=me.package,
            )
            if self._sealing_key is not None:
                hello.sealing_key.CopyFrom(self._sealing_key)
            out.put(pb.PartyMessage(hello=hello))
            with self._lock:
                for item in sorted(self._pending.values(), key=lambda p: p.id):
                    for m in item.messages:
                        out.put(m)
                self._queue = out
            stub = pb_grpc.PartyStub(channel)  # type: ignore[no-untyped-call]
            responses = stub.Connect(_drain(out), metadata=metadata)
            assembler = ChunkAssembler(1 << 40)
            welcomed = False
            for msg in responses:
                which = msg.WhichOneof("kind")
                if which == "welcome":
                    _check_versions(msg.welcome)
                    welcomed = True
                    self.chunk_bytes = msg.welcome.chunk_bytes or DEFAULT_CHUNK
                    assembler.max_bytes = msg.welcome.max_message_bytes or assembler.max_bytes
                    self.connected.set()
                    log.info("connected to the coordinator at %s as %s", self.target, self.party)
                elif which == "ack":
                    self._acked(msg.ack)
                elif which == "delivery":
                    data = assembler.add(msg.delivery)
                    if data is not None:
                        self._on_delivery(data)
                        out.put(
                            pb.PartyMessage(
                                delivered=pb.Delivered(delivery_id=msg.delivery.transfer_id)
                            )
                        )
                elif which == "job":
                    self._on_job(msg.job)
                elif which == "error":
                    log.warning("coordinator: %s", msg.error.message)
            return welcomed

    def _acked(self, ack: pb.Ack) -> None:
        key = ack.transfer_id or ack.item_id
        with self._lock:
            item = self._pending.pop(key, None)
        if item is None:
            return  # an acknowledgement of a resend we already had
        if ack.status == pb.Ack.MAILBOX_FULL:
            item.error = "MAILBOX_FULL"
        elif ack.status == pb.Ack.REJECTED:
            item.error = ack.error or "rejected"
        elif ack.status == pb.Ack.JOB_ENDED:
            item.error, item.ended = ack.error or "the job ended", True
        item.done.set()

    def _heartbeats(self) -> None:
        while not self._stopped.wait(self._heartbeat_s):
            renewed = self._refresh is not None and self._refresh.changed()
            with self._lock:
                if self._queue is not None:
                    # a renewed certificate: end this stream; the next one uses the new pair
                    self._queue.put(None if renewed else pb.PartyMessage(heartbeat=pb.Heartbeat()))


def _check_versions(welcome: pb.Welcome) -> None:
    """A coordinator too old to refuse this party itself is refused here, in the same words."""
    theirs = version.Peer.received("coordinator", welcome.protocol_version, welcome.package_version)
    refused = version.refusal(theirs, version.local("party"))
    if refused is not None:
        raise ProtocolError(refused)


def _drain(out: queue.Queue[pb.PartyMessage | None]) -> Iterator[pb.PartyMessage]:
    while (msg := out.get()) is not None:
        yield msg
