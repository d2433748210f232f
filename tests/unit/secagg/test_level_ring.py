"""The narrow ring of secure int8 sums: the narrowest width that holds n · 255, a one-line
error past 32 bits, the 16-bit limbs on the wire read back to the same words, and the
serialized message is about 2 bytes a coordinate against MaskedInput's 8."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vfl.algorithms.horizontal.messages import MaskedInput, MaskedLevels
from vfl.crypto.secagg.level_ring import TOP_LEVEL, LevelRing
from vfl.errors import ConfigError
from vfl.protocol import serde


@pytest.mark.parametrize(
    ("parties", "bits"), [(2, 16), (257, 16), (258, 32), (1000, 32), (16_843_009, 32)]
)
def test_the_ring_is_the_narrowest_that_holds_every_partys_top_level(
    parties: int, bits: int
) -> None:
    ring = LevelRing.for_parties(parties)
    assert ring.bits == bits
    assert parties * TOP_LEVEL < 2**bits  # the sum of n top levels cannot wrap


def test_a_sum_that_could_wrap_32_bits_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        LevelRing.for_parties(16_843_010)
    message = str(caught.value)
    assert "\n" not in message
    assert "16843010 parties could wrap 32 bits" in message
    assert "sample at most 16843009 parties a round" in message


@given(
    st.sampled_from([16, 32]),
    st.lists(st.integers(min_value=0, max_value=2**32 - 1), max_size=64),
)
def test_words_survive_the_16_bit_limbs_of_the_wire(bits: int, values: list[int]) -> None:
    ring = LevelRing(bits)
    words = np.array([v % 2**bits for v in values], dtype=ring.dtype)
    limbs = ring.to_limbs(words)
    assert limbs.dtype == np.uint16 and limbs.size == words.size * ring.limbs_per_word
    assert np.array_equal(ring.from_limbs(limbs), words)
    assert limbs.nbytes == words.size * bits // 8  # the wire carries w bits a coordinate


def test_masked_levels_serialize_at_two_bytes_a_coordinate() -> None:
    ring = LevelRing.for_parties(3)
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**16, 10_000).astype(ring.dtype)
    extra = rng.integers(0, 2**63, 3).astype(np.uint64)
    narrow = serde.encode(MaskedLevels(ring.to_limbs(words), extra))
    wide = serde.encode(MaskedInput(rng.integers(0, 2**63, 10_003).astype(np.uint64)))
    assert 20_000 < len(narrow) < 20_200 and 80_000 < len(wide) < 80_200
    back = serde.decode(narrow, MaskedLevels)
    assert np.array_equal(ring.from_limbs(back.limbs), words)
    assert np.array_equal(back.extra, extra)
