"""Every random value a Paillier side puts into a message, derived from its party secret.

A party restarted mid-epoch replays its batches from the last checkpoint, and its peer
keeps the messages it already had (docs/architecture.md, Resume). So the masks e1/e2, the
gradient mask ε and every obfuscator (F's encryptions, L's
re-randomisations) are functions of (party secret, purpose, message scope): a replayed
batch re-sends exactly its first messages, and F's acc or L's unmasking stay consistent
with what the peer received. Why this keeps them hiding: docs/paillier.md.
"""

from __future__ import annotations

import re

from vfl.runtime.party_secret import DerivedRandomness, PartySecret

_BATCH = re.compile(r"^(.*batch=)(\d+)$")


def next_batch_scope(scope: str) -> str | None:
    """The scope of the batch after `scope` ("…/batch=7" → "…/batch=8"), to compute its
    obfuscators ahead. A wrong guess (the epoch ended) only wastes that work: values
    depend on the scope they are used in, never on what was computed ahead."""
    m = _BATCH.match(scope)
    return f"{m.group(1)}{int(m.group(2)) + 1}" if m else None


class SideRandomness:
    """One side's streams: purposes are prefixed by role and peer, so L's masks for two
    feature holders (or F's and L's streams) are independent."""

    def __init__(self, secret: PartySecret, side: str, peer: str) -> None:
        self._secret = secret
        self._prefix = f"split_paillier/{side}/{peer}"

    def __repr__(self) -> str:
        return f"SideRandomness({self._prefix!r})"

    def stream(self, purpose: str, scope: str) -> DerivedRandomness:
        return self._secret.derive(f"{self._prefix}/{purpose}", scope)

    def obfuscators(self, scope: str) -> DerivedRandomness:
        """α values of the DJN obfuscators of every ciphertext this side sends in `scope`."""
        return self.stream("obfuscators", scope)
