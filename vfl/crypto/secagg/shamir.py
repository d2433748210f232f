"""t-out-of-n Shamir secret sharing of 32-byte secrets over the prime field GF(2^521 − 1).

Secure aggregation shares two secrets per party (its self-mask seed and its pairwise-mask
private key), so that any t surviving parties let the aggregator remove the masks of the
parties that stayed or dropped, and fewer than t learn nothing: each share is a point of a
uniformly random polynomial of degree t − 1 whose constant term is the secret, so any t − 1
shares are uniform and independent of it (perfect hiding). The field is larger than any
256-bit secret, so the secret embeds without reduction. Coefficients come from the OS
CSPRNG or the party's own secret, never from anything a peer knows.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vfl.errors import CryptoError

PRIME = (1 << 521) - 1
"""A Mersenne prime; GF(PRIME) holds every 256-bit secret."""
SECRET_BYTES = 32
SHARE_BYTES = 66
"""A field element in big-endian bytes (521 bits)."""


@dataclass(frozen=True)
class Share:
    """One point (x, y) of the sharing polynomial; x is the holder's index, 1-based."""

    x: int
    y: int

    def to_bytes(self) -> bytes:
        return self.x.to_bytes(2, "big") + self.y.to_bytes(SHARE_BYTES, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> Share:
        if len(data) != 2 + SHARE_BYTES:
            raise CryptoError(f"a Shamir share is {2 + SHARE_BYTES} bytes, got {len(data)}")
        x, y = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:], "big")
        if not 0 < x < 1 << 16 or y >= PRIME:
            raise CryptoError("a Shamir share is outside the field")
        return cls(x, y)


COEFFICIENT_BYTES = 82
"""Random bytes per coefficient: 656 bits reduced mod a 521-bit prime are within 2^-135 of
uniform."""


def split(
    secret: bytes,
    holders: int,
    threshold: int,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> list[Share]:
    """Shares for holders 1..`holders`, any `threshold` of which give the secret back.

    `random_bytes` draws the coefficients: the OS by default, or a stream from the party's
    own secret when a restarted party must send the same shares again."""
    if len(secret) != SECRET_BYTES:
        raise CryptoError(f"Shamir shares {SECRET_BYTES}-byte secrets, got {len(secret)}")
    if not 1 <= threshold <= holders < 1 << 16:
        raise CryptoError(f"threshold {threshold} must be within 1..{holders} holders")
    coefficients = [int.from_bytes(secret, "big")]
    coefficients += [
        int.from_bytes(random_bytes(COEFFICIENT_BYTES), "big") % PRIME for _ in range(threshold - 1)
    ]
    shares = []
    for x in range(1, holders + 1):
        y = 0
        for c in reversed(coefficients):  # Horner
            y = (y * x + c) % PRIME
        shares.append(Share(x, y))
    return shares


def combine(shares: Sequence[Share], threshold: int) -> bytes:
    """The secret from at least `threshold` distinct shares (Lagrange at 0)."""
    distinct = {s.x: s for s in shares}
    if len(distinct) < threshold:
        raise CryptoError(
            f"{len(distinct)} distinct shares cannot rebuild a secret shared with threshold "
            f"{threshold}"
        )
    points = list(distinct.values())[:threshold]
    secret = 0
    for i, pi in enumerate(points):
        numerator, denominator = 1, 1
        for j, pj in enumerate(points):
            if i != j:
                numerator = numerator * -pj.x % PRIME
                denominator = denominator * (pi.x - pj.x) % PRIME
        secret = (secret + pi.y * numerator * pow(denominator, -1, PRIME)) % PRIME
    if secret >= 1 << (8 * SECRET_BYTES):
        raise CryptoError("the shares do not belong to one secret (inconsistent shares)")
    return secret.to_bytes(SECRET_BYTES, "big")
