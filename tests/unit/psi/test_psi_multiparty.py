"""Star PSI with 2-4 parties: ECDH and RSA agree with each other and with the oracle."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from psi.rsa.keys import MIN_BITS
from tests.unit.psi.harness import ecdh, oracle, rsa, run_psi


def _sets(parties: int, size: int, core: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    universe = [f"cust-{rng.getrandbits(40):x}" for _ in range(4 * size)]
    shared = universe[:core]
    sets = {}
    for k in range(parties):
        extra = rng.sample(universe[core:], size - core)
        ids = list(dict.fromkeys(shared + extra))
        rng.shuffle(ids)
        sets["lh" if k == 0 else f"fh{k}"] = ids
    return sets


@pytest.mark.parametrize("parties", [2, 3, 4])
def test_every_party_ends_with_the_same_rows_as_the_oracle(tmp_path: Path, parties: int) -> None:
    sets = _sets(parties, size=60, core=15, seed=parties)
    expected = oracle(sets)
    assert len(expected) >= 15
    for name, factory in (("ecdh", ecdh), ("rsa", rsa)):
        out = run_psi(sets, tmp_path / name, factory=factory)
        assert all(ids == expected for ids in out.aligned.values()), name
        assert {r.protocol for r in out.reports.values()} == {name}


@pytest.mark.parametrize("parties", [2, 3, 4])
def test_cardinality_only_counts_every_party(tmp_path: Path, parties: int) -> None:
    sets = _sets(parties, size=50, core=9, seed=10 + parties)
    out = run_psi(sets, tmp_path, cardinality_only=True)
    assert {r.intersection_size for r in out.reports.values()} == {len(oracle(sets))}
    assert set(out.aligned.values()) == {None}


@pytest.mark.parametrize(
    ("left", "right"), [(200, 20), (20, 200), (50, 50)], ids=["lh-signs", "fh-signs", "tie"]
)
def test_rsa_unbalanced_either_side_signs(tmp_path: Path, left: int, right: int) -> None:
    rng = random.Random(left * 7 + right)
    shared = [f"s{i}" for i in range(10)]
    sets = {
        "lh": shared + [f"l{rng.getrandbits(32)}-{i}" for i in range(left - 10)],
        "fh": shared + [f"r{rng.getrandbits(32)}-{i}" for i in range(right - 10)],
    }
    out = run_psi(sets, tmp_path, factory=rsa)
    assert out.aligned == {"lh": sorted(shared), "fh": sorted(shared)}
    sent = {n: led.totals("job-1")["sent"] for n, led in out.ledgers.items()}
    signer, client = ("lh", "fh") if left >= right else ("fh", "lh")
    # The signer sends a signature per client ID and a 16-byte tag per own ID; the client
    # sends one blinded value per own ID: the small side's traffic scales with its own size.
    value = MIN_BITS // 8  # bytes of one value mod n
    assert sent[client] < value * (min(left, right) + 20) + 16 * max(left, right)
    assert sent[signer] > 16 * max(left, right)


def test_process_pool_path_matches_oracle(tmp_path: Path) -> None:
    """Sets larger than one worker task go through the process pool on both sides."""
    sets = _sets(2, size=9000, core=3000, seed=5)
    out = run_psi(sets, tmp_path, factory=ecdh, workers=2)
    expected = oracle(sets)
    assert out.aligned == {"lh": expected, "fh1": expected}
