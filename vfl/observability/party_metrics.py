"""A party node's Prometheus metrics (docs/operations.md).

Traffic is counted where programs record it, in the ledger (`MeteredLedger`): every body
a program sent or read, by algorithm family, once (a resend after a reconnect is not a
second message). Phases, job outcomes and errors are counted by the node. Labels come
only from the closed sets of labels.py: the coordinator, not this party, names phases and
states in job updates, so even those are clamped to the known values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from vfl.observability.labels import (
    Direction,
    ErrorKind,
    PhaseOutcome,
    family_of,
    phase_label,
    state_label,
)
from vfl.runtime.ledger import Ledger, LedgerEntry

PHASE_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
"""Seconds: from a quick alignment to a day of Paillier training."""


class PartyMetrics:
    """A party node's own registry and the instruments the node updates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "vfl_party_messages",
            "Messages this party's programs sent or received, by algorithm family",
            ["direction", "family"],
            registry=r,
        )
        self.message_bytes = Counter(
            "vfl_party_message_bytes",
            "Body bytes this party's programs sent or received, by algorithm family",
            ["direction", "family"],
            registry=r,
        )
        self.phase_seconds = Histogram(
            "vfl_party_phase_seconds",
            "Seconds one run of a phase took on this party, by outcome",
            ["phase", "outcome"],
            buckets=PHASE_BUCKETS,
            registry=r,
        )
        self.jobs_ended = Counter(
            "vfl_party_jobs_ended",
            "Jobs of this party that ended, by final state",
            ["state"],
            registry=r,
        )
        self.errors = Counter("vfl_party_errors", "Errors by kind", ["kind"], registry=r)
        for kind in ErrorKind:  # every kind shows 0 from the start: rate() and alerts work
            self.errors.labels(kind.value)

    def watch(self, connected: Callable[[], bool]) -> None:
        """Report whether the node holds its stream to the coordinator, read at scrape."""
        self.registry.register(_LinkCollector(connected))

    def ledger(self, inner: Ledger) -> MeteredLedger:
        return MeteredLedger(inner, self)

    # -- what the node calls -----------------------------------------------------------
    def message(self, direction: str, kind: str, nbytes: int) -> None:
        way = Direction.SENT if direction == Direction.SENT else Direction.RECEIVED
        family = family_of(kind).value
        self.messages.labels(way.value, family).inc()
        self.message_bytes.labels(way.value, family).inc(nbytes)

    def phase_ran(self, phase: str, outcome: PhaseOutcome, seconds: float) -> None:
        self.phase_seconds.labels(phase_label(phase), outcome.value).observe(max(seconds, 0.0))
        if outcome is PhaseOutcome.FAILED:
            self.error(ErrorKind.PHASE_FAILED)

    def job_ended(self, state: str) -> None:
        self.jobs_ended.labels(state_label(state)).inc()

    def error(self, kind: ErrorKind) -> None:
        self.errors.labels(kind.value).inc()


class MeteredLedger:
    """A `Ledger` that also counts each recorded message in `PartyMetrics`."""

    def __init__(self, inner: Ledger, metrics: PartyMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def record(self, entry: LedgerEntry) -> None:
        self._inner.record(entry)
        self._metrics.message(entry.direction, entry.kind, entry.nbytes)

    def totals(self, job_id: str) -> dict[str, int]:
        return self._inner.totals(job_id)

    def remember_sent(self, job_id: str, dst: str, seq: str, digest: bytes) -> bytes:
        return self._inner.remember_sent(job_id, dst, seq, digest)


class _LinkCollector(Collector):
    """`vfl_party_connected`: 1 while the node holds its coordinator stream, else 0."""

    def __init__(self, connected: Callable[[], bool]) -> None:
        self._connected = connected

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "vfl_party_connected",
            "1 while this node holds its stream to the coordinator",
            value=1 if self._connected() else 0,
        )
