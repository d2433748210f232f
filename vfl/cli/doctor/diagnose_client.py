"""The `Diagnose` service as the doctor calls it: one channel with the party's mTLS
credentials (or its name on an insecure loopback), Ping and Echo with a deadline."""

from __future__ import annotations

import grpc

from vfl.config.party_config import PartyConfig
from vfl.protocol import version
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc

TIMEOUT_S = 15.0


class DiagnoseClient:
    """Calls `Diagnose` as the party in `config`; close() when done."""

    def __init__(self, config: PartyConfig) -> None:
        options = [("grpc.max_receive_message_length", 4 << 20)]
        if config.insecure:
            self._channel = grpc.insecure_channel(config.coordinator, options=options)
            self._metadata = [("vfl-identity", config.name)]
        else:
            assert config.tls is not None, "validated: tls is required unless insecure"
            ca, cert, key = config.tls.read()
            creds = grpc.ssl_channel_credentials(
                root_certificates=ca, private_key=key, certificate_chain=cert
            )
            self._channel = grpc.secure_channel(config.coordinator, creds, options=options)
            self._metadata = []
        self._stub = pb_grpc.DiagnoseStub(self._channel)  # type: ignore[no-untyped-call]

    def ping(self) -> pb.PingReply:
        me = version.local("party")
        request = pb.PingRequest(protocol_version=me.protocol, package_version=me.package)
        reply: pb.PingReply = self._stub.Ping(request, metadata=self._metadata, timeout=TIMEOUT_S)
        return reply

    def echo(self, payload: bytes) -> bytes:
        reply: pb.EchoReply = self._stub.Echo(
            pb.EchoRequest(payload=payload), metadata=self._metadata, timeout=TIMEOUT_S
        )
        return reply.payload

    def close(self) -> None:
        self._channel.close()


def rpc_failure(exc: grpc.RpcError) -> str:
    """The status and the coordinator's words, for a one-line failure."""
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    name = code.name if code is not None else "error"
    if code is grpc.StatusCode.UNIMPLEMENTED:
        return f"{name}: the coordinator has no Diagnose service; upgrade the coordinator"
    return f"{name}: {details}"
