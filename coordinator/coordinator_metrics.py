"""The coordinator's Prometheus metrics (docs/operations.md).

Counters and histograms are updated where things happen (the relay, the delivery loop,
the lifecycle); jobs by state, mailbox depth and connected parties are read from the
store and the session registry when scraped, so they are right after a restart too.
Labels come only from the closed sets of vfl/observability/labels.py: no job id, party
name or message kind chosen by a peer ever becomes a series.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from coordinator.database import Database
from coordinator.sessions import SessionRegistry
from coordinator.tables import EnvelopeRow, JobRow
from vfl.config.phase_plan import JobState
from vfl.observability.labels import ErrorKind, RelayOutcome, family_of, phase_label, state_label

log = logging.getLogger(__name__)
PHASE_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
"""Seconds: from a quick alignment to a day of Paillier training."""
DELIVERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
"""Seconds an envelope waits in the relay: a loopback hop to a restart's outage."""


class CoordinatorMetrics:
    """The coordinator's own registry and the instruments its parts update."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.relayed = Counter(
            "vfl_coordinator_relay_messages",
            "Envelopes parties handed the relay, by algorithm family and what the relay did",
            ["family", "outcome"],
            registry=r,
        )
        self.relayed_bytes = Counter(
            "vfl_coordinator_relay_bytes",
            "Bytes of envelopes the relay stored, by algorithm family",
            ["family"],
            registry=r,
        )
        self.delivered = Counter(
            "vfl_coordinator_delivered_messages",
            "Envelopes sent on to their addressed party (again after a reconnect)",
            ["family"],
            registry=r,
        )
        self.delivered_bytes = Counter(
            "vfl_coordinator_delivered_bytes",
            "Bytes of envelopes sent on to their addressed party",
            ["family"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "vfl_coordinator_delivery_seconds",
            "Seconds from the relay storing an envelope to its addressed party confirming it",
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.phase_seconds = Histogram(
            "vfl_coordinator_phase_seconds",
            "Seconds from a phase's start to the last participant finishing it",
            ["phase"],
            buckets=PHASE_BUCKETS,
            registry=r,
        )
        self.errors = Counter("vfl_coordinator_errors", "Errors by kind", ["kind"], registry=r)
        for kind in ErrorKind:  # every kind shows 0 from the start: rate() and alerts work
            self.errors.labels(kind.value)

    def watch(self, db: Database, sessions: SessionRegistry) -> None:
        """Read jobs by state, mailbox depth and connected parties from these at scrape."""
        self.registry.register(_StoreCollector(db, sessions))

    # -- what the coordinator's parts call ---------------------------------------------
    def relay(self, kind: str, nbytes: int, outcome: RelayOutcome) -> None:
        family = family_of(kind).value
        self.relayed.labels(family, outcome.value).inc()
        if outcome is RelayOutcome.STORED:
            self.relayed_bytes.labels(family).inc(nbytes)

    def delivery(self, kind: str, nbytes: int) -> None:
        family = family_of(kind).value
        self.delivered.labels(family).inc()
        self.delivered_bytes.labels(family).inc(nbytes)

    def delivered_after(self, seconds: float | None) -> None:
        """An envelope confirmed by its addressee after `seconds` in the relay (None: it
        matched no held mail, e.g. a second confirm)."""
        if seconds is not None:
            self.delivery_seconds.observe(seconds)

    def phase_finished(self, phase: str, seconds: float) -> None:
        self.phase_seconds.labels(phase_label(phase)).observe(max(seconds, 0.0))

    def error(self, kind: ErrorKind) -> None:
        self.errors.labels(kind.value).inc()


class _StoreCollector(Collector):
    """Gauges computed at scrape: a few aggregate queries, no row leaves the store."""

    def __init__(self, db: Database, sessions: SessionRegistry) -> None:
        self._db = db
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "vfl_coordinator_store_up",
            "1 if the scrape could read the store (jobs and mailbox gauges), else 0",
            value=0 if (read := self._read()) is None else 1,
        )
        if read is not None:
            counts, held_messages, held_bytes = read
            jobs = GaugeMetricFamily("vfl_coordinator_jobs", "Jobs by state", labels=["state"])
            for state, count in counts.items():
                jobs.add_metric([state], count)
            yield jobs
            yield GaugeMetricFamily(
                "vfl_coordinator_mailbox_messages",
                "Envelopes held by the relay, not yet confirmed by their addressed party",
                value=held_messages,
            )
            yield GaugeMetricFamily(
                "vfl_coordinator_mailbox_bytes",
                "Bytes of envelopes held by the relay",
                value=held_bytes,
            )
        yield GaugeMetricFamily(
            "vfl_coordinator_parties_connected",
            "Party nodes holding a stream to this coordinator",
            value=len(self._sessions.connected()),
        )

    def _read(self) -> tuple[dict[str, int], int, int] | None:
        """Jobs by state and what the mailboxes hold; None if the store cannot answer (a
        scrape then still gets the rest, and `vfl_coordinator_store_up 0` says why)."""
        counts = dict.fromkeys((s.value for s in JobState), 0)
        try:
            with self._db.session() as s:
                by_state = sa.select(JobRow.state, sa.func.count()).group_by(JobRow.state)
                for state, count in s.execute(by_state):
                    label = state_label(str(state))
                    counts[label] = counts.get(label, 0) + int(count)
                held = s.execute(
                    sa.select(sa.func.count(EnvelopeRow.id), sa.func.sum(EnvelopeRow.size))
                ).one()
        except sa.exc.SQLAlchemyError:
            log.warning("metrics: the store did not answer; jobs and mailbox gauges skipped")
            return None
        return counts, int(held[0] or 0), int(held[1] or 0)
