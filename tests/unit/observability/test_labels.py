"""Label values come from closed sets: every message kind of every algorithm has its own
family, and whatever a peer makes up lands in `other`."""

from __future__ import annotations

import importlib

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from coordinator.coordinator_metrics import CoordinatorMetrics
from vfl.cli.message_catalog import MESSAGE_MODULES
from vfl.observability.labels import Family, RelayOutcome, family_of, phase_label, state_label
from vfl.observability.party_metrics import PartyMetrics
from vfl.protocol import serde


def test_every_registered_message_kind_has_a_family() -> None:
    for module in MESSAGE_MODULES:
        importlib.import_module(module)
    # the product's kinds: test modules register their own (test.Ping) in the same registry
    kinds = [k for k in serde.registered_kinds() if not k.startswith("test.")]
    assert len(kinds) > 50
    unknown = sorted(k for k in kinds if family_of(k) is Family.OTHER)
    assert unknown == [], "add their algorithm to vfl/observability/labels.py Family"


def test_made_up_kinds_states_and_phases_fall_into_other() -> None:
    assert family_of("split.Activations") is Family.SPLIT
    assert family_of("CANARY-ID-1.x") is Family.OTHER
    assert family_of("") is Family.OTHER
    assert state_label("succeeded") == "succeeded"
    assert state_label("P-00121") == "other"
    assert phase_label("train") == "train"
    assert phase_label("../etc") == "other"


def _series(text: str, name: str) -> set[tuple[tuple[str, str], ...]]:
    return {
        tuple(sorted(s.labels.items()))
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_a_flood_of_made_up_kinds_adds_no_series() -> None:
    metrics = CoordinatorMetrics()
    for i in range(500):
        metrics.relay(f"kind{i}.Message{i}", 10, RelayOutcome.STORED)
        metrics.delivery(f"x{i}", 10)
        metrics.phase_finished(f"phase-{i}", 1.0)
    text = generate_latest(metrics.registry).decode()
    assert _series(text, "vfl_coordinator_relay_messages_total") == {
        (("family", "other"), ("outcome", "stored"))
    }
    assert _series(text, "vfl_coordinator_delivered_messages_total") == {(("family", "other"),)}
    assert _series(text, "vfl_coordinator_phase_seconds_count") == {(("phase", "other"),)}
    assert "kind1" not in text and "phase-1" not in text


def test_a_party_counts_by_family_and_clamps_states() -> None:
    metrics = PartyMetrics()
    metrics.message("sent", "split.Activations", 100)
    metrics.message("received", "made.Up", 7)
    metrics.job_ended("P-00121")
    text = generate_latest(metrics.registry).decode()
    assert _series(text, "vfl_party_message_bytes_total") == {
        (("direction", "sent"), ("family", "split")),
        (("direction", "received"), ("family", "other")),
    }
    assert _series(text, "vfl_party_jobs_ended_total") == {(("state", "other"),)}
    assert "P-00121" not in text


def test_two_processes_in_one_interpreter_keep_their_own_series() -> None:
    first, second = PartyMetrics(), PartyMetrics()
    first.message("sent", "split.Activations", 100)
    assert "vfl_party_messages_total{" not in generate_latest(second.registry).decode()
