"""benchmarks/relay_check.py: histogram quantiles as PromQL computes them, and the
lost / duplicated / unexpected check the relay load benchmark's fault run relies on."""

from __future__ import annotations

import math

import pytest

from benchmarks.relay_check import Route, add_buckets, check_delivery, histogram_quantile

SENT = [Route("j", "a", "b", "k", f"train#{i}") for i in range(4)]
BUCKETS = [(0.01, 10.0), (0.1, 90.0), (1.0, 100.0), (math.inf, 100.0)]


def test_every_message_read_once_passes() -> None:
    check = check_delivery(SENT, list(reversed(SENT)))
    assert check.ok and (check.sent, check.lost, check.duplicated, check.unexpected) == (
        4,
        0,
        0,
        0,
    )


def test_an_identical_resend_counts_once() -> None:
    assert check_delivery([*SENT, SENT[0]], SENT).ok


@pytest.mark.parametrize(
    ("received", "lost", "duplicated", "unexpected"),
    [
        (SENT[1:], 1, 0, 0),  # one never read
        ([*SENT, SENT[2]], 0, 1, 0),  # one read twice
        ([*SENT, Route("j", "a", "b", "k", "train#9")], 0, 0, 1),  # read, never sent
        ([*SENT[:3], Route("j", "b", "a", "k", "train#3")], 1, 0, 1),  # wrong direction
    ],
)
def test_a_broken_delivery_fails(
    received: list[Route], lost: int, duplicated: int, unexpected: int
) -> None:
    check = check_delivery(SENT, received)
    assert not check.ok
    assert (check.lost, check.duplicated, check.unexpected) == (lost, duplicated, unexpected)


def test_quantiles_interpolate_inside_their_bucket() -> None:
    assert histogram_quantile(0.05, BUCKETS) == pytest.approx(0.005)
    assert histogram_quantile(0.5, BUCKETS) == pytest.approx(0.01 + 0.09 * 40 / 80)
    assert histogram_quantile(0.99, BUCKETS) == pytest.approx(0.1 + 0.9 * 9 / 10)
    assert histogram_quantile(1.0, list(reversed(BUCKETS))) == pytest.approx(1.0)


def test_a_quantile_in_the_inf_bucket_is_its_lower_bound_and_empty_is_nan() -> None:
    assert histogram_quantile(0.99, [(0.1, 50.0), (math.inf, 100.0)]) == 0.1
    assert math.isnan(histogram_quantile(0.5, [(0.1, 0.0), (math.inf, 0.0)]))
    assert math.isnan(histogram_quantile(0.5, []))
    with pytest.raises(ValueError, match="quantile"):
        histogram_quantile(1.5, BUCKETS)


def test_buckets_add_and_subtract_across_a_restart() -> None:
    before = [(0.1, 5.0), (math.inf, 6.0)]
    assert add_buckets(BUCKETS, before, sign=-1.0) == [
        (0.01, 10.0),
        (0.1, 85.0),
        (1.0, 100.0),
        (math.inf, 94.0),
    ]
    assert add_buckets([], before) == before
