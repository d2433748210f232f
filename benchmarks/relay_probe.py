"""The instruments of benchmarks/relay_load.py: the coordinator's metrics endpoint, a
process's peak RSS, a throw-away PostgreSQL database and the run's one deadline."""

from __future__ import annotations

import math
import os
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.relay_check import add_buckets, histogram_quantile


class Deadline:
    """The whole benchmark's time budget: every wait checks it and fails, saying where."""

    def __init__(self, seconds: float, started: float) -> None:
        self.end = started + seconds

    def left(self, what: str) -> float:
        self.check(what)
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if time.monotonic() > self.end:
            raise TimeoutError(f"relay_load: past its deadline while {what}")


@dataclass
class Scrape:
    """What the benchmark reads from the coordinator's metrics: counters and the delivery
    latency histogram, as cumulative (upper bound, count) buckets."""

    delivered: float = 0.0
    stored: float = 0.0
    duplicates: float = 0.0
    confirmed: float = 0.0
    buckets: list[tuple[float, float]] = field(default_factory=list)

    @classmethod
    def zero(cls) -> Scrape:
        return cls()

    def minus(self, other: Scrape) -> Scrape:
        return Scrape(
            self.delivered - other.delivered,
            self.stored - other.stored,
            self.duplicates - other.duplicates,
            self.confirmed - other.confirmed,
            add_buckets(self.buckets, other.buckets, sign=-1.0),
        )

    def plus(self, other: Scrape) -> Scrape:
        return Scrape(
            self.delivered + other.delivered,
            self.stored + other.stored,
            self.duplicates + other.duplicates,
            self.confirmed + other.confirmed,
            add_buckets(self.buckets, other.buckets),
        )

    def summary(self, wall_s: float) -> dict[str, Any]:
        def ms(q: float) -> float:
            value = histogram_quantile(q, self.buckets)
            return value if math.isnan(value) else round(value * 1e3, 2)

        return {
            "delivered": int(self.delivered),
            "stored": int(self.stored),
            "relay_duplicates": int(self.duplicates),
            "confirmed": int(self.confirmed),
            "msgs_per_s": round(self.confirmed / wall_s, 1),
            "p50_ms": ms(0.5),
            "p99_ms": ms(0.99),
        }


def scrape(url: str) -> Scrape:
    """The coordinator's metrics now (retrying for a few seconds while it starts)."""
    for attempt in range(50):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                text = response.read().decode()
            break
        except OSError:
            if attempt == 49:
                raise
            time.sleep(0.2)
    out = Scrape()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "vfl_coordinator_delivered_messages_total":
                out.delivered += sample.value
            elif sample.name == "vfl_coordinator_relay_messages_total":
                if sample.labels["outcome"] == "stored":
                    out.stored += sample.value
                elif sample.labels["outcome"] == "duplicate":
                    out.duplicates += sample.value
            elif sample.name == "vfl_coordinator_delivery_seconds_count":
                out.confirmed = sample.value
            elif sample.name == "vfl_coordinator_delivery_seconds_bucket":
                out.buckets.append((float(sample.labels["le"]), sample.value))
    return out


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), MB; 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A fresh database on the server of `url`, dropped afterwards; yields its URL."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"vfl_load_{uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
