"""`Diagnose` on a real coordinator: Ping answers with its clock, versions and the caller's
certificate name; Echo returns its payload, refuses an oversized one, and needs a cert."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from coordinator.echo_quota import MAX_ECHO_BYTES
from tests.integration.doctor.setup import coordinator, pki
from tests.integration.harness import credentials
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc
from vfl.protocol.version import PROTOCOL


def test_ping_names_the_caller_and_echo_is_bounded(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    with (
        coordinator(tmp_path, certs) as server,
        grpc.secure_channel(server.address, credentials(certs, "b")) as channel,
    ):
        stub = pb_grpc.DiagnoseStub(channel)  # type: ignore[no-untyped-call]
        reply = stub.Ping(pb.PingRequest(protocol_version=PROTOCOL))
        assert (reply.identity, reply.protocol_version, reply.refusal) == ("b", PROTOCOL, "")
        assert reply.max_echo_bytes == MAX_ECHO_BYTES and reply.server_time > 0
        assert stub.Echo(pb.EchoRequest(payload=b"x" * 100)).payload == b"x" * 100
        with pytest.raises(grpc.RpcError) as big:
            stub.Echo(pb.EchoRequest(payload=b"x" * (MAX_ECHO_BYTES + 1)))
        assert big.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert f"over {MAX_ECHO_BYTES}" in str(big.value.details())


def test_diagnose_without_a_client_certificate_is_refused(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    anonymous = grpc.ssl_channel_credentials(root_certificates=(certs / "ca.pem").read_bytes())
    with (
        coordinator(tmp_path, certs) as server,
        grpc.secure_channel(server.address, anonymous) as channel,
    ):
        stub = pb_grpc.DiagnoseStub(channel)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.RpcError) as refused:
            stub.Echo(pb.EchoRequest(payload=b"x"))
        assert refused.value.code() is not grpc.StatusCode.OK
