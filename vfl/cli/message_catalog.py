"""Every wire message this code knows, by kind: what its recipient can read of it.

The message modules register their kinds when imported; a ledger read outside a running
job (the CLI, the party dashboard) imports them here, cheaply (no torch), so a kind in
any party's ledger can be shown with its `Content`. A test checks that every kind the
party programs can send comes from one of these modules.
"""

from __future__ import annotations

import importlib
from functools import cache

from vfl.protocol import serde

MESSAGE_MODULES = (
    "psi.messages",
    "psi.ecdh.messages",
    "psi.rsa.messages",
    "psi.rr22.messages",
    "psi.join.messages",
    "vfl.algorithms.split.messages",
    "vfl.algorithms.split.paillier.messages",
    "vfl.algorithms.horizontal.messages",
    "vfl.algorithms.transfer.messages",
    "vfl.algorithms.transfer.paillier.messages",
)
UNKNOWN = "unknown"
"""Shown for a kind this version does not define (a ledger row from another version)."""


@cache
def _loaded() -> bool:
    for module in MESSAGE_MODULES:
        importlib.import_module(module)
    return True


def content(kind: str) -> str:
    """What the recipient of a `kind` message can read: a `Content` value, or UNKNOWN."""
    _loaded()
    found = serde.content_of(kind)
    return UNKNOWN if found is None else found.value
