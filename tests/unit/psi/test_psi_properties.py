"""PSI against Python's set intersection: every party ends with exactly the shared IDs,
sorted, for any sets (empty, disjoint, equal, one element, unicode, long, integer-like)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.unit.psi.harness import oracle, rsa, run_psi

_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12
).filter(lambda s: s.splitlines() == [s])  # IDs with line breaks are rejected (test_psi_errors)
_ids = st.one_of(
    _text,
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.text(alphabet="αβγ日本xyz", min_size=300, max_size=2000),
)


@st.composite
def _pair(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    shared = draw(st.sets(_ids, max_size=12))
    left = draw(st.sets(_ids, max_size=12)) | shared
    right = draw(st.sets(_ids, max_size=12)) | shared
    lo, ro = draw(st.permutations(sorted(left))), draw(st.permutations(sorted(right)))
    return list(lo), list(ro)


_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(_pair())
@example(([], []))
@example(([], ["a"]))
@example((["a", "b"], ["c", "d"]))
@example((["x", "y", "z"], ["z", "y", "x"]))
@example((["only"], ["only"]))
@example((["007", "7", "7.0"], ["7", "0007"]))
def test_ecdh_equals_set_intersection(pair: tuple[list[str], list[str]]) -> None:
    sets = {"lh": pair[0], "fh": pair[1]}
    with tempfile.TemporaryDirectory() as tmp:
        out = run_psi(sets, Path(tmp))
    expected = oracle(sets)
    assert out.aligned == {"lh": expected, "fh": expected}
    assert {r.intersection_size for r in out.reports.values()} == {len(expected)}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pair())
@example(([], ["a"]))
@example((["a"], ["a", "b", "c"]))
def test_rsa_equals_set_intersection(pair: tuple[list[str], list[str]]) -> None:
    sets = {"lh": pair[0], "fh": pair[1]}
    with tempfile.TemporaryDirectory() as tmp:
        out = run_psi(sets, Path(tmp), factory=rsa)
    expected = oracle(sets)
    assert out.aligned == {"lh": expected, "fh": expected}


@_settings
@given(_pair())
@example(([], []))
@example((["a"], ["a"]))
def test_cardinality_only_counts_without_storing_rows(pair: tuple[list[str], list[str]]) -> None:
    sets = {"lh": pair[0], "fh": pair[1]}
    with tempfile.TemporaryDirectory() as tmp:
        out = run_psi(sets, Path(tmp), cardinality_only=True)
    assert out.aligned == {"lh": None, "fh": None}
    assert {r.intersection_size for r in out.reports.values()} == {len(oracle(sets))}
