"""Who may talk to the coordinator, as whom, and what bad input does to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from coordinator.certs import init_pki
from coordinator.server import CoordinatorServer
from tests.integration.harness import (
    add_running_job,
    connect_party,
    credentials,
    start_coordinator,
    wait_for,
)
from vfl.config.coordinator_config import CoordinatorConfig, RelayLimits, TlsFiles
from vfl.errors import ProtocolError, VflError
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc
from vfl.protocol.version import PROTOCOL
from vfl.remote import CoordinatorClient

JOB = "job-sec"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[CoordinatorServer, Path]]:
    pki = tmp_path / "pki"
    init_pki(pki, ["127.0.0.1"], ["a", "b", "c"])
    tls = TlsFiles(ca=pki / "ca.pem", cert=pki / "coordinator.pem", key=pki / "coordinator.key")
    server = start_coordinator(tmp_path, tls=tls, relay=RelayLimits(max_message_bytes=64 * 1024))
    add_running_job(server, ("a", "b"), JOB)
    yield server, pki
    server.stop(0)


def _admin(server: CoordinatorServer, creds: grpc.ChannelCredentials) -> CoordinatorClient:
    return CoordinatorClient(grpc.secure_channel(server.address, creds), [])


def test_connection_without_a_client_certificate_is_refused(
    tls_server: tuple[CoordinatorServer, Path],
) -> None:
    server, pki = tls_server
    creds = grpc.ssl_channel_credentials(root_certificates=(pki / "ca.pem").read_bytes())
    with pytest.raises(VflError):
        _admin(server, creds).jobs()


def test_certificate_from_another_ca_is_refused(
    tls_server: tuple[CoordinatorServer, Path], tmp_path: Path
) -> None:
    server, pki = tls_server
    other = tmp_path / "other"
    init_pki(other, ["127.0.0.1"], ["a"])
    creds = grpc.ssl_channel_credentials(
        root_certificates=(pki / "ca.pem").read_bytes(),
        private_key=(other / "a.key").read_bytes(),
        certificate_chain=(other / "a.pem").read_bytes(),
    )
    with pytest.raises(VflError):
        _admin(server, creds).jobs()


def test_party_cannot_connect_as_another_party(tls_server: tuple[CoordinatorServer, Path]) -> None:
    server, pki = tls_server
    with grpc.secure_channel(server.address, credentials(pki, "a")) as channel:
        stub = pb_grpc.PartyStub(channel)  # type: ignore[no-untyped-call]
        responses = stub.Connect(
            iter([pb.PartyMessage(hello=pb.Hello(party="b", protocol_version=PROTOCOL))])
        )
        with pytest.raises(grpc.RpcError) as err:
            next(responses)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "certificate says 'a'" in (err.value.details() or "")


def test_party_cannot_send_as_another_or_read_its_mail(
    tls_server: tuple[CoordinatorServer, Path], tmp_path: Path
) -> None:
    server, pki = tls_server
    a = connect_party(server.address, "a", tmp_path, credentials(pki, "a"))
    b = connect_party(server.address, "b", tmp_path, credentials(pki, "b"))
    try:
        forged = Envelope(JOB, "b", "a", "k", "s#0", b"forged").to_bytes()
        with pytest.raises(ProtocolError, match="party a cannot send as 'b'"):
            a.link.send_envelope(forged)
        b.channel.send(Envelope(JOB, "b", "a", "k", "s#0", b"for a"))
        mail = server.mailbox.pending("a", 0) or []
        for m in mail:  # b confirming a's mail must not drop it
            server.mailbox.confirm("b", m.id)
        assert a.channel.recv(JOB, "b", "s#0", timeout=30).body == b"for a"
        a.channel.send(Envelope(JOB, "a", "b", "k", "t#0", b"for b"))
        assert b.channel.recv(JOB, "a", "t#0", timeout=30).body == b"for b"
        outsider = Envelope("other-job", "a", "b", "k", "s#0", b"x").to_bytes()
        with pytest.raises(ProtocolError, match="not part of job"):
            a.link.send_envelope(outsider)
    finally:
        a.close()
        b.close()


def test_party_cannot_submit_or_approve_as_another(
    tls_server: tuple[CoordinatorServer, Path],
) -> None:
    server, pki = tls_server
    spec = """[job]\nname = "x"\n[[parties]]\nname = "b"\nrole = "label_holder"\ndata = "d"
id_column = "id"\nlabel_column = "y"\n[[parties]]\nname = "c"\nrole = "feature_holder"
data = "d"\nid_column = "id"\n"""
    with pytest.raises(VflError, match="party a may submit only jobs it takes part in"):
        _admin(server, credentials(pki, "a")).submit(spec)
    with pytest.raises(VflError, match="not found"):
        _admin(server, credentials(pki, "c")).approve(JOB)
    with pytest.raises(VflError, match="operators cannot approve"):
        _admin(server, credentials(pki, "operator")).approve(JOB)
    assert [j.job_id for j in _admin(server, credentials(pki, "c")).jobs()] == []


def test_oversized_and_malformed_messages_get_clear_errors_and_service_keeps_serving(
    tls_server: tuple[CoordinatorServer, Path], tmp_path: Path
) -> None:
    server, pki = tls_server
    a = connect_party(server.address, "a", tmp_path, credentials(pki, "a"))
    b = connect_party(server.address, "b", tmp_path, credentials(pki, "b"))
    try:
        with pytest.raises(ProtocolError, match="exceeds the relay limit of 65536 bytes"):
            a.channel.send(Envelope(JOB, "a", "b", "k", "big#0", b"x" * 100_000))
        with pytest.raises(ProtocolError, match="not valid protobuf"):
            a.link.send_envelope(b"\xff\xff\xff garbage")
        with grpc.secure_channel(server.address, credentials(pki, "c")) as channel:
            raw = channel.stream_stream(
                "/vfl.protocol.v1.Party/Connect",
                request_serializer=lambda x: x,
                response_deserializer=lambda x: x,
            )
            with pytest.raises(grpc.RpcError):
                next(iter(raw(iter([b"\xff\x00not a message"]))))
        a.channel.send(Envelope(JOB, "a", "b", "k", "ok#0", b"still served"))
        assert b.channel.recv(JOB, "a", "ok#0", timeout=30).body == b"still served"
        wait_for(lambda: {"a", "b"} <= server.sessions.connected(), "both still connected")
    finally:
        a.close()
        b.close()


def test_insecure_mode_is_refused_off_loopback() -> None:
    with pytest.raises(ValueError, match="only on a loopback address"):
        CoordinatorConfig(listen="0.0.0.0:50051", insecure=True)
    with pytest.raises(ValueError, match=r"\[tls\] is required"):
        CoordinatorConfig(listen="127.0.0.1:50051")
