"""A hostile party cannot grow the coordinator's metrics: over real gRPC it relays
envelopes with made-up kinds and addresses made-up jobs, and the scrape keeps the same
few series, with none of what it made up in them."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from coordinator.server import CoordinatorServer
from tests.integration.harness import add_running_job, connect_party, start_coordinator
from vfl.config.metrics_config import MetricsConfig
from vfl.errors import ProtocolError
from vfl.protocol.envelope import Envelope

FLOOD = 40


@pytest.fixture
def server(tmp_path: Path) -> Iterator[CoordinatorServer]:
    running = start_coordinator(tmp_path, metrics=MetricsConfig(enabled=True, listen="127.0.0.1:0"))
    yield running
    running.stop(0)


def test_made_up_kinds_and_jobs_add_no_series(server: CoordinatorServer, tmp_path: Path) -> None:
    job = add_running_job(server, ("mallory", "bob"), "real-job-0001")
    mallory = connect_party(server.address, "mallory", tmp_path)
    bob = connect_party(server.address, "bob", tmp_path)
    try:
        for i in range(FLOOD):
            made_up = Envelope(job, "mallory", "bob", f"evil{i}.Kind{i}", f"s{i}", b"x" * i)
            mallory.link.send_envelope(made_up.to_bytes())
            stray = Envelope(f"made-up-job-{i}", "mallory", "bob", "split.Activations", "s", b"")
            with pytest.raises(ProtocolError):
                mallory.link.send_envelope(stray.to_bytes())
        with urllib.request.urlopen(server.metrics_endpoint.url, timeout=10) as response:
            text = response.read().decode()
    finally:
        mallory.close()
        bob.close()
    relayed = {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "vfl_coordinator_relay_messages_total"
    }
    assert relayed == {
        (("family", "other"), ("outcome", "stored")): FLOOD,
        (("family", "split"), ("outcome", "rejected")): FLOOD,
    }
    assert f'vfl_coordinator_errors_total{{kind="relay_refused"}} {float(FLOOD)}' in text
    for invented in ("evil", "made-up-job", "real-job", "mallory"):
        assert invented not in text
