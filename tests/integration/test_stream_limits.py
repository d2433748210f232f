"""What one valid party certificate can hold on a real coordinator, mounted as probes.

Each test opens real gRPC streams over mutual TLS on 127.0.0.1 with small limits and
checks the bound holds: silent streams cannot starve admin calls, two nodes with one
identity cannot take the session from each other, and open transfers cannot pile up.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from coordinator.certs import init_pki
from coordinator.server import CoordinatorServer
from parties.coordinator_link import CoordinatorLink
from tests.integration.harness import (
    Outbox,
    add_running_job,
    connect_party,
    credentials,
    start_coordinator,
    wait_for,
)
from vfl.config.coordinator_config import RelayLimits, ServerLimits, TlsFiles
from vfl.protocol.chunking import slices
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc
from vfl.protocol.version import PROTOCOL

JOB = "job-limits"
CONNECT = "/vfl.protocol.v1.Party/Connect"


def _serve(tmp: Path, limits: ServerLimits) -> tuple[CoordinatorServer, Path]:
    pki = tmp / "pki"
    init_pki(pki, ["127.0.0.1"], ["a", "b"])
    tls = TlsFiles(ca=pki / "ca.pem", cert=pki / "coordinator.pem", key=pki / "coordinator.key")
    relay = RelayLimits(max_message_bytes=64 * 1024)
    server = start_coordinator(tmp, tls=tls, relay=relay, limits=limits)
    add_running_job(server, ("a", "b"), JOB)
    return server, pki


def _hello(party: str) -> pb.PartyMessage:
    return pb.PartyMessage(hello=pb.Hello(party=party, protocol_version=PROTOCOL))


def _no_hello_readers() -> bool:
    return not any(t.name == "hello-read" for t in threading.enumerate())


def test_silent_streams_are_capped_and_closed_while_admin_answers(tmp_path: Path) -> None:
    limits = ServerLimits(max_concurrent_rpcs=8, max_party_streams=4, hello_timeout_s=1.0)
    server, pki = _serve(tmp_path, limits)
    outboxes = [Outbox() for _ in range(10)]  # more than every worker the server has
    done: queue.Queue[grpc.Future] = queue.Queue()
    try:
        with grpc.secure_channel(server.address, credentials(pki, "a")) as party:
            stub = pb_grpc.PartyStub(party)  # type: ignore[no-untyped-call]
            calls = [stub.Connect(iter(o)) for o in outboxes]
            for call in calls:
                call.add_done_callback(done.put)
            refused = [done.get(timeout=5) for _ in range(len(outboxes) - 4)]
            assert {c.code() for c in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
            assert any("limits.max_party_streams" in (c.details() or "") for c in refused)
            with grpc.secure_channel(server.address, credentials(pki, "operator")) as admin:
                admin_stub = pb_grpc.AdminStub(admin)  # type: ignore[no-untyped-call]
                # a server whose every worker the silent streams held (no stream cap, no
                # Hello deadline) would fail this call's 2 s deadline
                jobs = admin_stub.ListJobs(pb.ListJobsRequest(), timeout=2)
                assert [j.job_id for j in jobs.jobs] == [JOB]
            silent = [done.get(timeout=5) for _ in range(4)]  # closed by the Hello deadline
            assert {c.code() for c in silent} == {grpc.StatusCode.DEADLINE_EXCEEDED}
            assert "no Hello within 1 s" in (silent[0].details() or "")
        wait_for(_no_hello_readers, "the Hello readers end with their calls", 5)
        a = connect_party(server.address, "a", tmp_path, credentials(pki, "a"))  # slots were freed
        a.close()
    finally:
        for o in outboxes:
            o.close()
        server.stop(0)


def test_second_node_with_the_same_identity_is_refused_and_the_first_keeps_its_session(
    tmp_path: Path,
) -> None:
    server, pki = _serve(tmp_path, ServerLimits(max_concurrent_rpcs=16, max_party_streams=8))
    a = connect_party(server.address, "a", tmp_path, credentials(pki, "a"))
    second: CoordinatorLink | None = None
    try:
        first = server.sessions.get("a")
        with grpc.secure_channel(server.address, credentials(pki, "a")) as channel:
            stub = pb_grpc.PartyStub(channel)  # type: ignore[no-untyped-call]
            with pytest.raises(grpc.RpcError) as err:
                next(stub.Connect(iter([_hello("a")])))
        assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert err.value.details() == (
            "party a is already connected from another node; stop it first"
        )
        second = CoordinatorLink(
            server.address, "a", credentials(pki, "a"), [], lambda _: None, lambda _: None,
            reconnect_max_s=0.2,
        )  # fmt: skip
        second.start()
        changes, seen, until = 0, first, time.monotonic() + 2.0
        while time.monotonic() < until:  # the second node keeps retrying meanwhile
            if (now := server.sessions.get("a")) is not seen:
                changes, seen = changes + 1, now
            time.sleep(0.005)
        assert changes == 0
        assert a.link.connected.is_set() and not second.connected.is_set()
        a.link.stop()  # the first really ends: now the second node gets the session
        wait_for(second.connected.is_set, "second node connects after the first stopped", 10)
    finally:
        a.close()
        if second is not None:
            second.stop()
        server.stop(0)


def test_a_silent_session_is_dead_so_a_restarted_node_reconnects(tmp_path: Path) -> None:
    limits = ServerLimits(max_concurrent_rpcs=16, max_party_streams=8, session_silence_s=1.0)
    server, pki = _serve(tmp_path, limits)
    outbox = Outbox()  # a crashed node's half-open stream: connected, never heard again
    outbox.send(_hello("a"))
    ended = threading.Event()
    try:
        with grpc.secure_channel(server.address, credentials(pki, "a")) as channel:
            stub = pb_grpc.PartyStub(channel)  # type: ignore[no-untyped-call]
            call = stub.Connect(iter(outbox))
            assert next(call).WhichOneof("kind") == "welcome"

            def drain() -> None:  # the call's status arrives only after its messages are read
                for _ in call:
                    pass
                ended.set()

            threading.Thread(target=drain, daemon=True).start()
            assert ended.wait(5), "the silent session was never closed"
            a = connect_party(server.address, "a", tmp_path, credentials(pki, "a"))
            a.close()
    finally:
        outbox.close()
        server.stop(0)


def _acks(call: Iterator[pb.CoordinatorMessage]) -> queue.Queue[pb.Ack]:
    acks: queue.Queue[pb.Ack] = queue.Queue()

    def read() -> None:
        try:
            for msg in call:
                if msg.WhichOneof("kind") == "ack":
                    acks.put(msg.ack)
        except grpc.RpcError:
            pass

    threading.Thread(target=read, daemon=True).start()
    return acks


def test_open_transfers_are_capped_and_idle_ones_dropped_and_the_stream_keeps_serving(
    tmp_path: Path,
) -> None:
    limits = ServerLimits(
        max_concurrent_rpcs=16,
        max_party_streams=8,
        open_transfer_bytes=100_000,
        transfer_idle_s=1.0,
    )
    server, pki = _serve(tmp_path, limits)
    b = connect_party(server.address, "b", tmp_path, credentials(pki, "b"))
    outbox = Outbox()
    outbox.send(_hello("a"))
    try:
        with grpc.secure_channel(server.address, credentials(pki, "a")) as channel:
            stub = pb_grpc.PartyStub(channel)  # type: ignore[no-untyped-call]
            acks = _acks(stub.Connect(iter(outbox)))
            for tid in (1, 2):  # two first slices that never finish: 120,000 bytes open
                outbox.send(pb.PartyMessage(chunk=pb.Chunk(transfer_id=tid, data=b"x" * 60_000)))
            ack = acks.get(timeout=5)
            assert (ack.transfer_id, ack.status) == (2, pb.Ack.REJECTED)
            assert "over limits.open_transfer_bytes = 100000" in ack.error
            time.sleep(1.5)  # transfer 1 idles past transfer_idle_s
            outbox.send(pb.PartyMessage(heartbeat=pb.Heartbeat()))
            ack = acks.get(timeout=5)
            assert (ack.transfer_id, ack.status) == (1, pb.Ack.REJECTED)
            assert "no slice for 1 s (dropped)" in ack.error
            honest = Envelope(JOB, "a", "b", "k", "ok#0", b"y" * 45_000).to_bytes()
            for chunk in slices(honest, 3, 16 * 1024):
                outbox.send(pb.PartyMessage(chunk=chunk))
            ack = acks.get(timeout=5)
            assert (ack.transfer_id, ack.status) == (3, pb.Ack.STORED)
            assert b.channel.recv(JOB, "a", "ok#0", timeout=30).body == b"y" * 45_000
    finally:
        outbox.close()
        b.close()
        server.stop(0)
