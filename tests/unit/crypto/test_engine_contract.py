"""One contract for the protocol engines (`StreamEngine`): Paillier and OU.

What the split protocol relies on, checked against plaintext arithmetic for each engine:
encrypt → linear → add_plain → the owner's `open` gives Σ e·x + m (with its own offsets);
masks from `hiding_masks` are in the range the scheme's hiding argument needs and their
masked values pass `open`'s bound; a replayed stream gives the same ciphertexts; and
`capacity_bits` leaves room for a masked packed value below the plaintext modulus.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from vfl.crypto.engine import Obfuscation, PaillierEngine, StreamEngine
from vfl.crypto.ou_engine import OuEngine
from vfl.crypto.packing import SlotLayout
from vfl.crypto.testing import insecure_keypair, insecure_ou_keypair
from vfl.crypto.worker_pool import WorkerPool
from vfl.runtime.party_secret import DerivedRandomness, PartySecret

SECRET = PartySecret(b"k" * 32, "contract", "party", b"d" * 32)


def _stream(label: str) -> DerivedRandomness:
    """A replayable stream, as a party derives one per purpose and scope."""
    return SECRET.derive(label, "contract")


def _pair(name: str) -> tuple[StreamEngine, StreamEngine]:
    """(key owner's engine, the peer's owner-hiding engine) under one key."""
    pool = WorkerPool(1)
    if name == "paillier":
        keys: Any = insecure_keypair(512)
        bases = _stream("bases")
        peer = PaillierEngine(keys.public, pool, None, Obfuscation.OWNER_HIDING, bases)
        return PaillierEngine.owner(keys, pool), peer
    keys = insecure_ou_keypair(1024)
    return OuEngine.owner(keys, pool), OuEngine(keys.public, pool, None, Obfuscation.OWNER_HIDING)


@pytest.fixture(params=["paillier", "ou"])
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engines(scheme: str) -> tuple[StreamEngine, StreamEngine]:
    return _pair(scheme)


def test_linear_plus_plain_opens_to_the_plaintext_result(
    engines: tuple[StreamEngine, StreamEngine],
) -> None:
    owner, peer = engines
    xs = [secrets.randbelow(2**20) - 2**19 for _ in range(4)]
    cts = owner.encrypt(xs, _stream("f1"))
    terms = [[(0, 3), (1, -5)], [(2, 7), (3, 11), (0, -1)]]
    added = [123, -456]
    out = peer.add_plain(peer.linear(cts, terms), added, _stream("obf"))
    expected = [sum(e * xs[i] for i, e in t) + m for t, m in zip(terms, added, strict=True)]
    own = [1000, -1000]
    opened = owner.open(out, 60, "contract", own)
    n = int(owner.key.n)
    want = [(v + o) for v, o in zip(expected, own, strict=True)]
    assert [v % n for v in opened] == [w % n for w in want]


def test_masks_hide_within_the_bound_the_owner_accepts(
    engines: tuple[StreamEngine, StreamEngine],
) -> None:
    owner, peer = engines
    layout = SlotLayout.for_key(owner.capacity_bits, 40)
    b = layout.slots * layout.width
    masks = peer.hiding_masks(_stream("e1"), 8, b)
    values = [secrets.randbelow(2 ** (b - 1)) * (-1) ** k for k in range(8)]
    cts = peer.add_plain(owner.encrypt(values, _stream("x")), masks, _stream("obf2"))
    opened = owner.open(cts, owner.masked_bound_bits(b), "contract")
    n = int(owner.key.n)
    assert [(o - m) % n for o, m in zip(opened, masks, strict=True)] == [v % n for v in values]


def test_a_replayed_stream_gives_the_same_ciphertexts(scheme: str) -> None:
    """Replay determinism: the same key and stream re-send byte-identical ciphertexts (a
    restarted party), another stream gives others."""
    first = _pair(scheme)[0].encrypt([5, 6], _stream("replay"))
    again = _pair(scheme)[0]
    assert again.encrypt([5, 6], _stream("replay")) == first
    assert again.encrypt([5, 6], _stream("other")) != first
