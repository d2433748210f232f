"""PSI secrets a restarted party can recompute: scalars, shuffles and blinding factors.

In deployment a party restarted alone mid-align replays its phase: peers drop what it
re-sends and its inbox journal hands it the replies they already made, computed under the
secrets it had the first time (docs/architecture.md, Resume). So every secret value a
PSI program puts into a message is derived from the party's own secret
(`vfl.runtime.party_secret`), a purpose naming the value and the message scope — never
from the OS at run time and never from the job seed, which every party knows.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from psi.ecdh.group import SCALAR_BYTES, invert
from vfl.errors import CryptoError
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import DerivedRandomness, PartySecret

_TRIES = 256
"""Draws for an invertible mask: each succeeds with probability ~1/2, so 256 all fail
with probability ~2^-256."""


class PsiRandomness:
    """One party's derived PSI values for one align run (the context's message scope)."""

    def __init__(self, ctx: PartyContext, protocol: str) -> None:
        self._secret = PartySecret.of(ctx)
        self._protocol = protocol
        self._scope = ctx.scope

    def __repr__(self) -> str:
        return f"PsiRandomness({self._protocol!r}, {self._scope!r}, <hidden>)"

    def stream(self, purpose: str) -> DerivedRandomness:
        return self._secret.derive(f"psi/{self._protocol}/{purpose}", self._scope)

    def scalar(self, purpose: str) -> bytes:
        """An X25519 key: 32 derived bytes (X25519 clamps them to 2^254 + 8·k′, k′ of 251
        uniform bits)."""
        return self.stream(purpose).bits(0, 8 * SCALAR_BYTES).to_bytes(SCALAR_BYTES, "little")

    def invertible_scalar(self, purpose: str) -> tuple[bytes, bytes]:
        """An X25519 key and the key that undoes it (`group.invert`): the first of the
        purpose's derived draws that has one, so a replay picks the same."""
        stream = self.stream(purpose)
        for i in range(_TRIES):
            scalar = stream.bits(i, 8 * SCALAR_BYTES).to_bytes(SCALAR_BYTES, "little")
            inverse = invert(scalar)
            if inverse is not None:
                return scalar, inverse
        raise CryptoError(f"psi/{self._protocol}/{purpose}: no invertible mask in {_TRIES} draws")

    def permutation(self, purpose: str, n: int) -> NDArray[np.int64]:
        return self.stream(purpose).generator().permutation(n).astype(np.int64)
