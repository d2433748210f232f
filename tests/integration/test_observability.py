"""A real deployment (mTLS gRPC on loopback, real party nodes, real SQLite) with every
[metrics] endpoint on: the scrapes over HTTP show the job, the relay and the phases, and
neither the scrapes nor any log line (JSON, at DEBUG) holds a raw value planted in the
data. The same scan run against a node that logs a row finds it: the test can fail."""

from __future__ import annotations

import io
import json
import logging
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

import parties.node
import parties.registered_data
from tests.integration import node_federation
from tests.integration.node_federation import SAMPLE, NodeFederation, breast_job
from vfl.config.metrics_config import MetricsConfig
from vfl.observability.json_logs import JsonFormatter

CANARY_ID = "CANARY-ID-5f1e9c"
"""Planted in both parties' ID column (so it is in the intersection)."""
CANARY_VALUES = ("31415.9265", "27182.8182")
"""Planted as the hospital's and the lab's first feature of that row."""
NEEDLES = ("canary-id", "5f1e9c", "31415.92", "27182.81")
"""What a leak of the canaries looks like, case-insensitive (IDs are normalised; a
float32 prints 31415.926)."""
ON = MetricsConfig(enabled=True, listen="127.0.0.1:0")


@dataclass
class Run:
    """What an operator could see of one job: log lines and every process's scrape."""

    job_id: str
    logs: str
    scrapes: dict[str, str]
    relayed: int
    """Envelopes the relay's mailbox was asked to hold (recorded by node_federation)."""
    ledgers: dict[str, dict[str, int]]
    """Each party's ledger totals of the job: {"sent": bytes, "received": bytes}."""

    def leaks(self) -> list[str]:
        seen = [self.logs, *self.scrapes.values()]
        return [n for n in NEEDLES for text in seen if n in text.lower()]


def _plant(root: Path) -> dict[str, Path]:
    """The breast sample with canaries in the row of patient P-00121."""
    out = {}
    for party, value in zip(("hospital", "lab"), CANARY_VALUES, strict=True):
        lines = (SAMPLE / f"{party}.csv").read_text().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("P-00121,"):
                cells = line.split(",")
                cells[0], cells[1] = CANARY_ID, value
                lines[i] = ",".join(cells)
        assert any(line.startswith(CANARY_ID) for line in lines)
        out[party] = root / f"{party}.csv"
        out[party].write_text("\n".join(lines) + "\n")
    return out


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
    return body.decode()


@pytest.fixture
def capture() -> Iterator[io.StringIO]:
    """Every log record of this process, at DEBUG, as `--log-format json` writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def _run(root: Path, logs: io.StringIO) -> Run:
    fed = node_federation.start(root, datasets=_plant(root), metrics=ON)
    try:
        job_id, state, error = fed.run_job(breast_job(epochs=1))
        assert state == "succeeded", error
        scrapes = _scrapes(fed)
        ledgers = {name: node.store.totals(job_id) for name, node in fed.nodes.items()}
        relayed = len(fed.relayed)
    finally:
        fed.stop()
    return Run(job_id, logs.getvalue(), scrapes, relayed, ledgers)


def _scrapes(fed: NodeFederation) -> dict[str, str]:
    out = {"coordinator": _scrape(fed.server.metrics_endpoint.url)}
    for name, node in fed.nodes.items():
        out[name] = _scrape(node.metrics_endpoint.url)
    return out


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_a_real_job_shows_in_the_scrapes_and_leaks_no_raw_value(
    tmp_path: Path, capture: io.StringIO
) -> None:
    run = _run(tmp_path, capture)
    assert run.leaks() == []
    lines = [json.loads(line) for line in run.logs.splitlines() if line]
    assert lines and all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    for text in run.scrapes.values():
        assert run.job_id not in text  # job ids are never labels
    coordinator = _samples(run.scrapes["coordinator"])
    assert _value(coordinator, "vfl_coordinator_jobs", state="succeeded") == 1
    assert _value(coordinator, "vfl_coordinator_jobs", state="pending") == 0
    stored = {"outcome": "stored"}
    assert _value(coordinator, "vfl_coordinator_relay_messages_total", family="ecdh", **stored)
    assert _value(coordinator, "vfl_coordinator_relay_messages_total", family="split", **stored)
    assert _value(coordinator, "vfl_coordinator_relay_bytes_total", family="split") > 0
    assert _value(coordinator, "vfl_coordinator_delivered_bytes_total", family="split") > 0
    for phase in ("align", "train", "evaluate"):
        assert _value(coordinator, "vfl_coordinator_phase_seconds_count", phase=phase) == 1
    assert _value(coordinator, "vfl_coordinator_mailbox_messages") == 0  # all dropped at end
    # every envelope the relay stored was confirmed by its addressee, each latency observed
    stored_total = sum(
        v
        for (name, labels), v in coordinator.items()
        if name == "vfl_coordinator_relay_messages_total" and ("outcome", "stored") in labels
    )
    assert _value(coordinator, "vfl_coordinator_delivery_seconds_count") == stored_total > 0
    assert _value(coordinator, "vfl_coordinator_parties_connected") == 2
    assert _value(coordinator, "vfl_coordinator_errors_total", kind="phase_failed") == 0
    put = [
        v
        for (name, labels), v in coordinator.items()
        if name == "vfl_coordinator_relay_messages_total"
        and dict(labels)["outcome"] in ("stored", "duplicate", "full")
    ]
    assert sum(put) == run.relayed  # one count per envelope the mailbox was handed
    for party in ("hospital", "lab"):
        node = _samples(run.scrapes[party])
        for way in ("sent", "received"):
            assert _value(node, "vfl_party_messages_total", direction=way, family="split") > 0
            assert _value(node, "vfl_party_message_bytes_total", direction=way, family="ecdh") > 0
        ran = {"outcome": "done"}
        assert _value(node, "vfl_party_phase_seconds_count", phase="train", **ran) == 1
        assert _value(node, "vfl_party_jobs_ended_total", state="succeeded") == 1
        assert _value(node, "vfl_party_connected") == 1
        for way in ("sent", "received"):  # the ledger is the oracle of the traffic counters
            counted = sum(
                v
                for (name, labels), v in node.items()
                if name == "vfl_party_message_bytes_total" and dict(labels)["direction"] == way
            )
            assert counted == run.ledgers[party][way]


def test_the_scan_finds_a_row_that_a_broken_node_logs(
    tmp_path: Path, capture: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    load = parties.registered_data.load_for_job
    log = logging.getLogger("broken.node")

    def leaky(config: Any, spec: Any) -> Any:
        data = load(config, spec)
        log.debug("loaded; first row %s %s", data.ids[0], data.features[0, 0])
        return data

    monkeypatch.setattr(parties.node, "load_for_job", leaky)
    assert {"canary-id", "31415.92"} <= set(_run(tmp_path, capture).leaks())
