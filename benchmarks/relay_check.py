"""Pure helpers of benchmarks/relay_load.py: quantiles from a Prometheus histogram, and
the check that every message sent was received exactly once (none lost, none twice)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple


class Route(NamedTuple):
    """One message as both ends' ledgers name it: same job, ends, kind and sequence."""

    job_id: str
    src: str
    dst: str
    kind: str
    seq: str


@dataclass(frozen=True)
class DeliveryCheck:
    """What the recipients' ledgers show against what the senders' ledgers show."""

    sent: int
    """Distinct messages sent (a resumed sender's identical re-send counts once)."""
    lost: int
    """Sent, never read by its recipient."""
    duplicated: int
    """Read by its recipient more than once."""
    unexpected: int
    """Read by a recipient, yet no sender's ledger has it."""

    @property
    def ok(self) -> bool:
        return self.lost == self.duplicated == self.unexpected == 0


def check_delivery(sent: Iterable[Route], received: Iterable[Route]) -> DeliveryCheck:
    """Every sent route read exactly once, and nothing read that was not sent."""
    sent_set = set(sent)
    reads = Counter(received)
    return DeliveryCheck(
        sent=len(sent_set),
        lost=len(sent_set - reads.keys()),
        duplicated=sum(1 for n in reads.values() if n > 1),
        unexpected=len(reads.keys() - sent_set),
    )


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """The q-quantile of a histogram given as cumulative (upper bound, count) buckets,
    interpolated linearly inside the bucket it falls in, as PromQL's histogram_quantile
    does (the +Inf bucket answers its lower bound). NaN for an empty histogram."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile {q} is not in [0, 1]")
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] == 0:
        return math.nan
    rank = q * ordered[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank and count > below:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def add_buckets(
    a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]], sign: float = 1.0
) -> list[tuple[float, float]]:
    """Histogram `a` plus (or, with sign -1, minus) `b`, bucket by bucket; a bucket one of
    them lacks counts 0 there (a histogram not yet scraped, or a restarted process)."""
    out = dict(a)
    for bound, count in b:
        out[bound] = out.get(bound, 0.0) + sign * count
    return sorted(out.items())
