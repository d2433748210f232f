"""`Diagnose`: what `vfl doctor` asks the coordinator for. Ping returns its clock and
versions (the party measures skew and checks compatibility), Echo returns its payload
(round trip and throughput). Both read the caller from its mTLS certificate like every
other call; Echo is bounded per call and per caller (coordinator/echo_quota.py) and
touches neither the store nor the relay.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc

from coordinator.echo_quota import MAX_ECHO_BYTES, EchoQuota
from coordinator.errors import BusyError, rpc
from coordinator.identity import peer_identity
from vfl.errors import ProtocolError
from vfl.protocol import version
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc


class DiagnoseServicer(pb_grpc.DiagnoseServicer):
    """Serves `Diagnose.Ping` and `Diagnose.Echo` to any party or operator certificate."""

    def __init__(
        self,
        insecure: bool,
        quota: EchoQuota | None = None,
        clock: Callable[[], float] = time.time,
        speaks: version.Peer | None = None,
    ) -> None:
        self.insecure = insecure
        self.quota = quota or EchoQuota()
        self._clock = clock  # a seam: tests give the coordinator a skewed clock
        self._speaks = speaks or version.local("coordinator")

    @rpc
    def Ping(  # noqa: N802 (gRPC method name)
        self, request: pb.PingRequest, context: grpc.ServicerContext
    ) -> pb.PingReply:
        identity = peer_identity(context, self.insecure)
        caller = version.Peer.received("party", request.protocol_version, request.package_version)
        return pb.PingReply(
            server_time=self._clock(),
            protocol_version=self._speaks.protocol,
            package_version=self._speaks.package,
            identity=identity.name,
            max_echo_bytes=MAX_ECHO_BYTES,
            refusal=version.refusal(self._speaks, caller) or "",
        )

    @rpc
    def Echo(  # noqa: N802 (gRPC method name)
        self, request: pb.EchoRequest, context: grpc.ServicerContext
    ) -> pb.EchoReply:
        identity = peer_identity(context, self.insecure)
        size = len(request.payload)
        if size > MAX_ECHO_BYTES:
            raise ProtocolError(f"echo payload of {size} bytes is over {MAX_ECHO_BYTES}")
        refused = self.quota.take(identity.name, size)
        if refused is not None:
            raise BusyError(refused)
        return pb.EchoReply(payload=request.payload)
