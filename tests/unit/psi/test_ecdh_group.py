"""The X25519 blinding group of ECDH-PSI: commutative, on the curve, hostile input refused."""

from __future__ import annotations

import os

import gmpy2
from hypothesis import given, settings
from hypothesis import strategies as st

from psi.ecdh import group
from vfl.errors import ProtocolError

_P = 2**255 - 19


def _twist_point() -> bytes:
    """A canonical u-coordinate on the quadratic twist (u³ + A·u² + u not a square)."""
    u = 2
    while gmpy2.legendre((u**3 + 486662 * u * u + u) % _P, _P) != -1:
        u += 1
    return u.to_bytes(32, "little")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=6, unique=True))
def test_blinding_commutes_and_keeps_ids_apart(ids: list[str]) -> None:
    a, b = os.urandom(32), os.urandom(32)
    ab = group.blind(group.hash_and_blind(ids, a), b)
    ba = group.blind(group.hash_and_blind(ids, b), a)
    assert ab == ba
    chunks = {ab[i : i + 32] for i in range(0, len(ab), 32)}
    assert len(chunks) == len(ids)


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=20))
def test_hash_lands_on_the_curve(value: str) -> None:
    assert group.on_curve(group.hash_to_curve(value))


def test_an_invertible_mask_is_undone_exactly() -> None:
    points = group.hash_and_blind(["x", "y", "z"], os.urandom(32))
    found = 0
    for _ in range(40):
        mask = os.urandom(32)
        inverse = group.invert(mask)
        if inverse is None:
            continue
        found += 1
        assert group.blind(group.blind(points, mask), inverse) == points
    assert found >= 5  # about half of the masks have a clamped inverse


def test_the_broken_variant_without_a_true_inverse_does_not_undo() -> None:
    """Control: the plain modular inverse, clamped by X25519, is not an inverse."""
    points = group.hash_and_blind(["x"], os.urandom(32))
    mask = os.urandom(32)
    naive = pow(group.clamp(mask), -1, group.ORDER).to_bytes(32, "little")
    assert group.blind(group.blind(points, mask), naive) != points


def test_twist_small_order_and_non_canonical_values_are_refused() -> None:
    key = os.urandom(32)
    valid = group.hash_and_blind(["a"], key)
    small_order = (1).to_bytes(32, "little")  # u = 1: order 4
    top_bit = bytes(valid[:31]) + bytes([valid[31] | 128])
    for bad in (_twist_point(), small_order, bytes(32), top_bit, _P.to_bytes(32, "little")):
        try:
            group.blind(valid + bad, key)
        except ProtocolError as err:
            assert "1 of 2 received values" in str(err)
        else:
            raise AssertionError(f"accepted {bad.hex()[:8]}…")
