"""Shamir sharing: any t shares rebuild the secret, t − 1 shares are uniform whatever the
secret (the attack: an adversary with t − 1 shares guessing between two secrets)."""

from __future__ import annotations

import itertools
import secrets

import pytest

from vfl.crypto.secagg import shamir
from vfl.errors import CryptoError


def test_any_threshold_of_the_shares_rebuilds_the_secret() -> None:
    secret = secrets.token_bytes(32)
    shares = shamir.split(secret, holders=5, threshold=3)
    for chosen in itertools.combinations(shares, 3):
        assert shamir.combine(chosen, 3) == secret
    assert shamir.Share.from_bytes(shares[0].to_bytes()) == shares[0]


def test_fewer_than_threshold_shares_are_refused() -> None:
    shares = shamir.split(secrets.token_bytes(32), holders=5, threshold=3)
    with pytest.raises(CryptoError, match="2 distinct shares cannot rebuild"):
        shamir.combine([shares[0], shares[1], shares[1]], 3)


def test_threshold_minus_one_shares_do_not_tell_two_secrets_apart() -> None:
    """The distinguishing attack: shares at x = 1, 2 of a threshold-3 sharing, for secret A
    or B. Each share's low byte is uniform either way (chi-square), so the two are alike;
    a broken variant with threshold 1 (the secret is every share) is told apart at once."""
    a, b = b"\x00" * 32, b"\xff" * 32

    def low_bytes(secret: bytes, threshold: int, draws: int = 3000) -> list[int]:
        return [shamir.split(secret, 3, threshold)[1].y & 0xFF for _ in range(draws)]

    def chi_square(values: list[int]) -> float:
        counts = [0] * 256
        for v in values:
            counts[v] += 1
        expected = len(values) / 256
        return sum((c - expected) ** 2 / expected for c in counts)

    # 255 degrees of freedom: the 1e-6 tail is at about 375
    assert chi_square(low_bytes(a, 3)) < 375 and chi_square(low_bytes(b, 3)) < 375
    assert chi_square(low_bytes(a, 1, 300)) > 10_000  # broken: the share is the secret


def test_a_share_outside_the_field_is_refused() -> None:
    with pytest.raises(CryptoError, match="outside the field"):
        shamir.Share.from_bytes(b"\x00\x01" + b"\xff" * shamir.SHARE_BYTES)
