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
import pysodium
from numpy.typing import NDArray

from vfl.errors import CryptoError
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import DerivedRandomness, PartySecret

_WIDE = 512
"""Bits drawn for a ristretto255 scalar before reduction mod the group order (~2^252)."""


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
        """A ristretto255 scalar: 64 derived bytes reduced mod the group order."""
        wide = self.stream(purpose).bits(0, _WIDE).to_bytes(_WIDE // 8, "big")
        scalar: bytes = pysodium.crypto_core_ristretto255_scalar_reduce(wide)
        if not any(scalar):  # probability 2^-252
            raise CryptoError(f"psi/{self._protocol}/{purpose}: derived scalar is zero")
        return scalar

    def permutation(self, purpose: str, n: int) -> NDArray[np.int64]:
        return self.stream(purpose).generator().permutation(n).astype(np.int64)
