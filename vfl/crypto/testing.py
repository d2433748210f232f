"""Test-only keys below the production minimum, so crypto tests run in milliseconds.

Never reachable from a job spec: `train.key_bits` is validated at >= 2048 and programs use
`generate_keypair` unless a test hands them this factory explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from vfl.crypto.keys import KeyPair, _generate
from vfl.crypto.ou import OuKeyPair, generate_ou_keypair


@lru_cache(maxsize=4)
def insecure_keypair(bits: int = 512) -> KeyPair:
    """A cached small key pair (tests only: 512 bits is breakable)."""
    return _generate(bits)


def insecure_keygen(bits: int = 512) -> Callable[[int], KeyPair]:
    """A key factory for programs under test: ignores the spec's key_bits."""

    def make(_requested: int) -> KeyPair:
        return _generate(bits)

    return make


@lru_cache(maxsize=4)
def insecure_ou_keypair(bits: int = 1024) -> OuKeyPair:
    """A cached small OU key pair (tests only)."""
    return generate_ou_keypair(bits, allow_insecure=True)
