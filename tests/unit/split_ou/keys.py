"""Small OU keys for tests (production keys are >= 3072 bits)."""

from __future__ import annotations

from vfl.crypto.ou import OuKeyPair, generate_ou_keypair

OU_TEST_BITS = 1536
"""A small test key (production: ≥ 3072) whose plaintexts still hold every layout."""


def small_ou_key(_bits: int) -> OuKeyPair:
    return generate_ou_keypair(OU_TEST_BITS, allow_insecure=True)
