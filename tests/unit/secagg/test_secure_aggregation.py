"""Secure aggregation mounted against: the aggregator's view of one update (uniform, and
the test fails on the unmasked update), dropouts at every step (the exact sum survives up
to n − t), too many dropouts (a clear error, nothing changed), and an aggregator that asks
for both secrets of one party (refused; with a threshold ≤ n/2, the broken variant, it
unmasks a single update)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from vfl.algorithms.horizontal.secure_aggregation import (
    SecAggAggregator,
    SecAggParty,
    default_threshold,
    pair_seed,
)
from vfl.crypto.secagg import ring, shamir
from vfl.errors import CryptoError, ProtocolError

SIZE, BITS = 512, 16
NAMES = [f"p{i}" for i in range(7)]
CONTEXT = b"job-1/round-0"


def _updates(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.normal(0, 1, SIZE) for name in NAMES}


def _round(
    updates: dict[str, np.ndarray],
    threshold: int,
    drop_before_shares: Sequence[str] = (),
    drop_before_input: Sequence[str] = (),
    drop_before_unmask: Sequence[str] = (),
) -> tuple[SecAggAggregator, dict[str, SecAggParty]]:
    parties = {n: SecAggParty(n, NAMES, threshold, CONTEXT) for n in NAMES}
    agg = SecAggAggregator(NAMES, threshold, CONTEXT)
    for name, party in parties.items():
        agg.public_keys[name] = party.public_key()
    for name, party in parties.items():
        if name in drop_before_shares:
            continue
        for holder, shares in party.shares().items():
            parties[holder].hold(name, shares)
        agg.shared.add(name)
    survivors = agg.survivors()
    for name in survivors:
        if name in drop_before_input:
            continue
        words = ring.encode(updates[name], BITS)
        agg.inputs[name] = parties[name].masked_input((words,), survivors, agg.public_keys)
    alive, dropped = agg.unmask_request()
    for name in survivors:
        if name not in drop_before_input and name not in drop_before_unmask:
            agg.answers[name] = parties[name].unmask(alive, dropped)
    return agg, parties


def _plain_sum(updates: dict[str, np.ndarray], names: Sequence[str]) -> np.ndarray:
    total = np.zeros(SIZE, dtype=np.uint64)
    for name in names:
        total = total + ring.encode(updates[name], BITS)
    return total


@pytest.mark.parametrize(
    "stage", ["none", "before_shares", "before_input", "before_unmask", "mixed"]
)
def test_the_exact_sum_survives_up_to_n_minus_t_dropouts_at_each_step(stage: str) -> None:
    updates = _updates()
    t = default_threshold(len(NAMES))  # 4 of 7: three may drop
    drops = {
        "none": {},
        "before_shares": {"drop_before_shares": NAMES[:3]},
        "before_input": {"drop_before_input": NAMES[:3]},
        "before_unmask": {"drop_before_unmask": NAMES[:3]},
        "mixed": {
            "drop_before_shares": [NAMES[0]],
            "drop_before_input": [NAMES[1]],
            "drop_before_unmask": [NAMES[2]],
        },
    }[stage]
    agg, _ = _round(updates, t, **drops)
    counted = sorted(agg.inputs)
    (total,) = agg.total()
    assert np.array_equal(total, _plain_sum(updates, counted))  # exact, in the ring
    mean = ring.decode(total, BITS) / len(counted)
    oracle = np.mean([updates[n] for n in counted], axis=0)
    assert np.abs(mean - oracle).max() <= 2.0**-BITS


def test_one_masked_update_is_uniform_to_the_aggregator_and_the_plain_one_is_not() -> None:
    """The attack: the aggregator inspects one party's stored input. Each byte of it is
    uniform (chi-square, 255 d.o.f.), unlike the encoded update itself (the control)."""
    updates = _updates(1)
    agg, _ = _round(updates, default_threshold(len(NAMES)))
    seen = agg.inputs[NAMES[0]][0].tobytes()
    plain = ring.encode(updates[NAMES[0]], BITS).tobytes()

    def chi_square(data: bytes) -> float:
        counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
        expected = len(data) / 256
        return float(((counts - expected) ** 2 / expected).sum())

    assert chi_square(seen) < 375  # the 1e-6 tail of chi-square(255) is near 375
    assert chi_square(plain) > 5_000


def test_more_than_n_minus_t_dropouts_fail_the_round_with_a_clear_error() -> None:
    updates = _updates(2)
    t = default_threshold(len(NAMES))
    with pytest.raises(CryptoError, match="3 of 7 parties sent their input, fewer than the"):
        _round(updates, t, drop_before_input=NAMES[:4])
    agg, _ = _round(updates, t, drop_before_unmask=NAMES[:3])
    del agg.answers[NAMES[3]]  # a fourth party goes silent after sending its input
    with pytest.raises(CryptoError, match="3 parties answered the unmask request, fewer than"):
        agg.total()
    assert len(agg.inputs) == 7  # nothing lost: a late answer still completes the round


def _split_story_attack(threshold: int) -> np.ndarray | None:
    """A lying aggregator: after p0's input arrived it tells half the parties "p0 is alive"
    (collecting shares of b_p0) and the other half "p0 dropped" (shares of s_p0). With
    both secrets it strips every mask from y_p0 alone. Returns p0's update, if it got it."""
    updates = _updates(3)
    parties = {n: SecAggParty(n, NAMES, threshold, CONTEXT) for n in NAMES}
    keys = {n: p.public_key() for n, p in parties.items()}
    for name, party in parties.items():
        for holder, shares in party.shares().items():
            parties[holder].hold(name, shares)
    (y0,) = parties["p0"].masked_input((ring.encode(updates["p0"], BITS),), NAMES, keys)
    others = NAMES[1:]
    alive_story = [n for n in NAMES if n != "p0"][: max(threshold, 1)]
    seeds, mask_keys = [], []
    for i, name in enumerate(others):
        if i % 2 == 0:
            answer = parties[name].unmask(NAMES, [])  # "everyone is alive"
            seeds.append(shamir.Share.from_bytes(answer.seeds["p0"]))
        else:
            answer = parties[name].unmask(alive_story, ["p0"])  # "p0 dropped"
            mask_keys.append(shamir.Share.from_bytes(answer.mask_keys["p0"]))
    try:
        b0 = shamir.combine(seeds, threshold)
        s0 = shamir.combine(mask_keys, threshold)
    except CryptoError:
        return None
    key = X25519PrivateKey.from_private_bytes(s0)
    x = y0 - ring.expand(b0, SIZE, b"self")
    for peer in others:
        shared = key.exchange(X25519PublicKey.from_public_bytes(keys[peer]))
        stream = ring.expand(pair_seed(shared, CONTEXT, "p0", peer), SIZE, b"")
        x = x - stream if peer > "p0" else x + stream
    return ring.decode(x, BITS)


def test_an_aggregator_telling_two_stories_cannot_unmask_one_update() -> None:
    assert _split_story_attack(default_threshold(len(NAMES))) is None
    broken = _split_story_attack(3)  # threshold ≤ n/2: the attack works
    assert broken is not None
    assert np.abs(broken - _updates(3)["p0"]).max() <= 2.0**-BITS


def test_a_party_refuses_to_reveal_both_secrets_or_to_answer_twice() -> None:
    party = SecAggParty("p0", NAMES, 4, CONTEXT)
    with pytest.raises(ProtocolError, match="both secrets of p1"):
        party.unmask(["p0", "p1", "p2", "p3"], ["p1"])
    party.unmask(["p0", "p1", "p2", "p3"], [])
    with pytest.raises(ProtocolError, match="already answered"):
        party.unmask(["p0", "p1", "p2", "p3"], [])
