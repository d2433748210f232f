"""Party and coordinator exchange protocol versions in Hello and Welcome; a party of
another protocol is refused with one line naming the side to upgrade (real mTLS stream)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from parties.coordinator_link import _check_versions
from tests.integration.doctor.setup import coordinator, pki
from tests.integration.harness import credentials
from vfl import __version__
from vfl.errors import ProtocolError
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc
from vfl.protocol.version import PROTOCOL


def _connect(tmp: Path, hello: pb.Hello) -> Iterator[pb.CoordinatorMessage]:
    certs = pki(tmp)
    with coordinator(tmp, certs) as server:
        channel = grpc.secure_channel(server.address, credentials(certs, "a"))
        with channel:
            stub = pb_grpc.PartyStub(channel)  # type: ignore[no-untyped-call]
            call = stub.Connect(iter([pb.PartyMessage(hello=hello)]))
            yield next(call)


def test_party_of_a_newer_protocol_is_refused_naming_the_coordinator(tmp_path: Path) -> None:
    hello = pb.Hello(party="a", protocol_version=PROTOCOL + 1, package_version="9.0.0")
    with pytest.raises(grpc.RpcError) as refused:
        next(_connect(tmp_path, hello))
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.details() == (
        f"coordinator speaks protocol {PROTOCOL}, this party {PROTOCOL + 1}: "
        "upgrade the coordinator (to vfl 9.0.0, as the party)"
    )


def test_party_of_the_same_protocol_is_welcomed_with_the_coordinator_versions(
    tmp_path: Path,
) -> None:
    hello = pb.Hello(party="a", protocol_version=PROTOCOL, package_version=__version__)
    first = next(_connect(tmp_path, hello))
    assert first.WhichOneof("kind") == "welcome"
    assert first.welcome.protocol_version == PROTOCOL
    assert first.welcome.package_version == __version__


def test_party_without_a_version_is_read_as_protocol_1_and_refused(tmp_path: Path) -> None:
    """A node from before versions speaks protocol 1, which has no per-job keys."""
    assert PROTOCOL > 1
    with pytest.raises(grpc.RpcError) as refused:
        next(_connect(tmp_path, pb.Hello(party="a")))
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.details() == (
        f"coordinator speaks protocol {PROTOCOL}, this party 1: "
        f"upgrade the party (to vfl {__version__}, as the coordinator)"
    )


def test_party_refuses_a_coordinator_of_another_protocol_that_welcomed_it() -> None:
    old = pb.Welcome(party="a", protocol_version=PROTOCOL + 1, package_version="3.0.0")
    with pytest.raises(ProtocolError, match=r"upgrade the party \(to vfl 3.0.0"):
        _check_versions(old)
    with pytest.raises(ProtocolError, match=r"upgrade the coordinator"):
        _check_versions(pb.Welcome(party="a"))  # unversioned: protocol 1, refused
    _check_versions(pb.Welcome(party="a", protocol_version=PROTOCOL, package_version="3.0.0"))
