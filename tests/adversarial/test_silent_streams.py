"""Issue 17, probe 1: mallory's certificate opened 66 `Party.Connect` streams that never
sent Hello and held every gRPC worker, so admin calls timed out.

Here mallory opens more silent streams than the server has workers while an honest job
trains: those past `max_party_streams` are refused at once, the admitted ones are closed at
the Hello deadline, the operator is answered throughout, and the honest job's result is
the simulator's."""

from __future__ import annotations

import queue
from pathlib import Path

import grpc
import pytest

from tests.adversarial.federation import (
    HELLO_TIMEOUT_S,
    MAX_CONCURRENT_RPCS,
    MAX_PARTY_STREAMS,
    assert_no_attack_result,
    assert_serving,
    submit_honest,
    wait_for_state,
)
from tests.adversarial.mallory import raw_channel
from tests.integration.harness import Outbox
from vfl.cli.local_federation import LocalFederation
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc

pytestmark = pytest.mark.slow
SILENT = MAX_CONCURRENT_RPCS + 6
"""More streams than the server has workers at all."""


def test_silent_streams_are_refused_or_closed_while_admin_and_an_honest_job_go_on(
    fed: LocalFederation, tmp_path: Path
) -> None:
    honest = submit_honest(fed, "silent-streams")
    wait_for_state(fed, honest, ("train",))
    outboxes = [Outbox() for _ in range(SILENT)]
    ended: queue.Queue[grpc.Future] = queue.Queue()
    try:
        with raw_channel(fed) as channel:
            stub = pb_grpc.PartyStub(channel)  # type: ignore[no-untyped-call]
            for outbox in outboxes:
                stub.Connect(iter(outbox)).add_done_callback(ended.put)
            admitted = MAX_PARTY_STREAMS - 2  # hospital's and lab's streams hold two slots
            refused = [ended.get(timeout=30) for _ in range(SILENT - admitted)]
            assert_serving(fed)  # while the admitted silent streams still hold their slots
            closed = [ended.get(timeout=30) for _ in range(admitted)]
    finally:
        for outbox in outboxes:
            outbox.close()
    assert {c.code() for c in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert any("limits.max_party_streams" in (c.details() or "") for c in refused)
    assert {c.code() for c in closed} == {grpc.StatusCode.DEADLINE_EXCEEDED}
    for call in closed:
        details = call.details() or ""
        assert f"no Hello within {HELLO_TIMEOUT_S} s" in details and "\n" not in details
    assert_no_attack_result(fed, honest, tmp_path / "oracle")
    assert_serving(fed)
