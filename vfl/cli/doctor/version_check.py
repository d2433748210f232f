"""Both ends' versions: the coordinator must speak this party's protocol (equal integer)."""

from __future__ import annotations

from vfl.cli.doctor.check import CheckResult, failed, passed
from vfl.protocol import version
from vfl.protocol.v1 import coordinator_pb2 as pb

NAME = "versions"


def check_versions(reply: pb.PingReply) -> CheckResult:
    theirs = version.Peer.received("coordinator", reply.protocol_version, reply.package_version)
    mine = version.local("party")
    refused = version.refusal(theirs, mine)
    if refused is not None:
        return failed(NAME, refused)
    return passed(NAME, f"party {mine.label()}, coordinator {theirs.label()}: compatible")
