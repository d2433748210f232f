"""Issue 17, probes 6b and 6a: two nodes with one identity took the session from each other
(flapping), and one stream held eight open 512 MiB transfers that never idled out.

Mallory holds one session; a second stream under its certificate, and one naming hospital,
are refused with one line while the first keeps its session and hospital keeps its own.
On the first stream, open transfers past `open_transfer_bytes` are refused and an idle one
is dropped, and the stream keeps serving. An honest job runs throughout."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest

from tests.adversarial.federation import (
    HELLO_TIMEOUT_S,
    MALLORY,
    MAX_MESSAGE_BYTES,
    TRANSFER_IDLE_S,
    assert_no_attack_result,
    assert_serving,
    coordinator_log_count,
    operator,
    submit_honest,
    wait_for_state,
)
from tests.adversarial.mallory import RawStream, hello, raw_channel, report
from vfl.cli.local_federation import LocalFederation
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.runtime.events import Progress

pytestmark = pytest.mark.slow
SLICE = 600 * 1024
"""Two first slices of this size are more than open_transfer_bytes (= one largest envelope)."""


def _connected(fed: LocalFederation) -> set[str]:
    client = operator(fed)
    try:
        return {p.name for p in client.parties() if p.connected}
    finally:
        client.close()


def test_a_second_session_of_one_identity_or_another_is_refused_without_flapping(
    fed: LocalFederation, tmp_path: Path
) -> None:
    honest = submit_honest(fed, "identity")
    wait_for_state(fed, honest, ("train",))
    sessions_before = coordinator_log_count(fed, f"party {MALLORY} connected")
    with raw_channel(fed) as channel:
        first = RawStream(channel, hello())
        try:
            assert first.next("welcome").welcome.party == MALLORY
            second = RawStream(channel, hello())
            err = second.refusal()
            assert err.code() == grpc.StatusCode.ALREADY_EXISTS
            assert err.details() == (
                f"party {MALLORY} is already connected from another node; stop it first"
            )
            posing = RawStream(channel, hello("hospital"))
            err = posing.refusal()
            assert err.code() == grpc.StatusCode.PERMISSION_DENIED
            assert err.details() == (
                f"certificate says '{MALLORY}' but Hello names 'hospital'; "
                "a party can only connect as itself"
            )
            for _ in range(HELLO_TIMEOUT_S):  # a flapping session would show in these polls
                assert {MALLORY, "hospital", "lab"} <= _connected(fed)
                first.send(pb.PartyMessage(heartbeat=pb.Heartbeat()))
                time.sleep(1)
            assert not first.ended.is_set()
        finally:
            first.close()
    assert coordinator_log_count(fed, f"party {MALLORY} connected") == sessions_before + 1
    assert_no_attack_result(fed, honest, tmp_path / "oracle")
    assert_serving(fed)


def test_open_transfers_past_the_bound_are_refused_and_an_idle_one_dropped(
    fed: LocalFederation, tmp_path: Path
) -> None:
    honest = submit_honest(fed, "transfers")
    wait_for_state(fed, honest, ("train",))
    with raw_channel(fed) as channel:
        stream = RawStream(channel, hello())
        try:
            stream.next("welcome")
            for transfer in (1, 2):  # two first slices that never finish
                stream.send(
                    pb.PartyMessage(chunk=pb.Chunk(transfer_id=transfer, data=b"x" * SLICE))
                )
            ack = stream.next("ack").ack
            assert (ack.transfer_id, ack.status) == (2, pb.Ack.REJECTED)
            assert f"over limits.open_transfer_bytes = {MAX_MESSAGE_BYTES}" in ack.error
            time.sleep(TRANSFER_IDLE_S + 0.5)  # transfer 1 idles past transfer_idle_s
            stream.send(pb.PartyMessage(heartbeat=pb.Heartbeat()))
            ack = stream.next("ack").ack
            assert (ack.transfer_id, ack.status) == (1, pb.Ack.REJECTED)
            assert f"no slice for {TRANSFER_IDLE_S} s (dropped)" in ack.error
            # the stream still serves: a report on a job mallory is not in is refused
            # with a reason, and the stream stays open
            forged = report(honest.job_id, Progress("train", 1, 2))
            forged.report.item_id = 7
            stream.send(forged)
            ack = stream.next("ack").ack
            assert (ack.item_id, ack.status) == (7, pb.Ack.REJECTED)
            assert ack.error == f"party {MALLORY} is not part of job {honest.job_id!r}"
            assert not stream.ended.is_set()
        finally:
            stream.close()
    assert_no_attack_result(fed, honest, tmp_path / "oracle")
    assert_serving(fed)
