"""Signed slot packing: round trips, worst-case linear algebra mod n, overflow detection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vfl.crypto.packing import GUARD_BITS, SlotLayout, product_bits
from vfl.errors import CryptoError

N = (1 << 1023) + 1155  # any odd modulus above the packed range works for plaintext algebra


@given(st.integers(1, 40), st.data())
def test_pack_unpack_round_trips_signed_values(value_bits: int, data: st.DataObject) -> None:
    layout = SlotLayout.for_key(1024, value_bits)
    limit = (1 << value_bits) - 1
    values = data.draw(st.lists(st.integers(-limit, limit), min_size=1, max_size=layout.slots))
    assert layout.unpack(layout.pack(values) % N, N, len(values), "t") == values


@given(st.integers(2, 20), st.integers(2, 20), st.integers(1, 64), st.data())
@settings(max_examples=60)
def test_worst_case_sum_of_products_decodes_exactly(
    a_bits: int, b_bits: int, terms: int, data: st.DataObject
) -> None:
    """Σ_k s_k·P_k mod n decodes to the slot-wise Σ_k s_k·v_k, extremes included."""
    layout = SlotLayout.for_key(1024, product_bits(a_bits, b_bits, terms))
    a_max, b_max = (1 << a_bits) - 1, (1 << b_bits) - 1
    extreme = st.sampled_from([-a_max, a_max])
    slots = min(layout.slots, 8)
    rows = data.draw(
        st.lists(
            st.lists(extreme | st.integers(-a_max, a_max), min_size=slots, max_size=slots),
            min_size=terms,
            max_size=terms,
        )
    )
    scalars = data.draw(
        st.lists(
            st.sampled_from([-b_max, b_max]) | st.integers(-b_max, b_max),
            min_size=terms,
            max_size=terms,
        )
    )
    total = sum(s * layout.pack(r) for s, r in zip(scalars, rows, strict=True)) % N
    expected = [sum(s * r[t] for s, r in zip(scalars, rows, strict=True)) for t in range(slots)]
    assert layout.unpack(total, N, slots, "t") == expected


def test_plaintext_noise_mod_n_cancels_exactly() -> None:
    """The protocol masks whole plaintexts with uniform noise mod n and removes it after."""
    layout = SlotLayout.for_key(1024, 30)
    values = [-(1 << 29) + 1, 5, (1 << 29) - 1, -7]
    noise = 0x1234567 * N // 7919
    masked = (layout.pack(values) + noise) % N
    assert layout.unpack(masked - noise, N, 4, "t") == values


def test_overflowed_slot_is_detected_on_decode() -> None:
    layout = SlotLayout.for_key(1024, 16)
    big = 1 << (16 + GUARD_BITS - 1)  # past the declared bound, inside the slot: detectable
    with pytest.raises(CryptoError, match="overflowed"):
        layout.unpack(layout.pack([1, 2]) + (big << layout.width), N, 2, "test.Message")


def test_pack_rejects_values_beyond_the_bound() -> None:
    layout = SlotLayout.for_key(1024, 8)
    with pytest.raises(CryptoError):
        layout.pack([256])


def test_layout_needing_more_bits_than_the_key_is_refused() -> None:
    with pytest.raises(CryptoError, match="precision_bits"):
        SlotLayout.for_key(64, 80)


def test_unpacked_layout_has_one_slot() -> None:
    assert SlotLayout.for_key(2048, 40, packing=False).slots == 1
