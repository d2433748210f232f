"""RR22 through spu, its traffic over the in-memory hub as over the relay: the exact
intersection against Python sets, the star with more feature holders, and a child that
dies. Skipped only where spu is not installed (harness.needs_fastpsi)."""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from psi.rr22 import session as rr22_session
from psi.rr22.messages import Frame
from psi.rr22.native import fastpsi_dir
from psi.rr22.session import Session, run_session
from tests.unit.psi.harness import needs_fastpsi, oracle, rr22, run_psi
from vfl.errors import PeerUnavailableError, ProtocolError
from vfl.runtime.simulator import PartyFailedError

pytestmark = needs_fastpsi

ids = st.sets(st.sampled_from([f"c{i:03d}" for i in range(60)]), max_size=40)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ids, ids)
@example({"c001", "c002", "c003"}, {"c003", "c002", "c009"})  # spu runs: overlap
@example({"c001"}, {"c002", "c004"})  # spu runs: disjoint
@example(set(), {"c002"})  # spu skipped: a side is empty
def test_rr22_intersection_equals_python_sets(left: set[str], right: set[str]) -> None:
    sets = {"bank": sorted(left), "shop": sorted(right, reverse=True)}
    with tempfile.TemporaryDirectory() as root:
        out = run_psi(sets, Path(root), factory=rr22)
        assert out.aligned == {"bank": oracle(sets), "shop": oracle(sets)}
        assert {r.intersection_size for r in out.reports.values()} == {len(oracle(sets))}
        leftovers = [p for p in Path(root).rglob("*") if p.name.startswith("rr22-")]
        assert leftovers == []  # temp, trace and CSV files removed


def test_rr22_star_with_two_feature_holders_keeps_rows_all_share(tmp_path: Path) -> None:
    sets = {
        "bank": [f"u{i}" for i in range(0, 300)],
        "shop": [f"u{i}" for i in range(100, 400)],
        "telco": [f"u{i}" for i in range(250, 50, -1)],
    }
    out = run_psi(sets, tmp_path, factory=rr22)
    expected = oracle(sets)
    assert len(expected) == 151
    assert out.aligned == dict.fromkeys(sets, expected)


def test_a_killed_child_fails_the_run_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = rr22_session._start_child

    def start_then_kill(*args: object) -> subprocess.Popen[bytes]:
        child = start(*args)  # type: ignore[arg-type]
        child.send_signal(signal.SIGKILL)
        return child

    class NoPeer:
        def send(self, frame: Frame) -> None:
            pass

        def recv(self, timeout: float) -> Frame:
            time.sleep(timeout)
            raise PeerUnavailableError("no peer")

    monkeypatch.setattr(rr22_session, "_start_child", start_then_kill)
    session = Session(NoPeer(), "shop", 0, fastpsi_dir(), tmp_path, timeout_s=30)
    keys = np.zeros((1, 16), dtype=np.uint8)
    with pytest.raises(ProtocolError, match=r"exited with code -9 \(killed by signal 9\)") as err:
        run_session(session, keys, limit=1)
    assert "\n" not in str(err.value)
    assert (tmp_path / "rr22-child-shop.log").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["rr22-child-shop.log"]


def test_when_a_feature_holders_child_dies_the_label_holder_stops_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = rr22_session._start_child

    def kill_feature_holders(session: Session, *args: object) -> subprocess.Popen[bytes]:
        child = start(session, *args)  # type: ignore[arg-type]
        if session.rank == 1:
            child.send_signal(signal.SIGKILL)
        return child

    monkeypatch.setattr(rr22_session, "_start_child", kill_feature_holders)
    sets = {"bank": ["a", "b", "c"], "shop": ["b", "c", "d"]}
    began = time.perf_counter()
    with pytest.raises(PartyFailedError) as failed:
        run_psi(sets, tmp_path, factory=rr22)  # train.timeout_s is 600 s
    assert time.perf_counter() - began < 60
    # whichever failure the simulator reports first: F's own, or L's news of it
    reasons = {"shop": "killed by signal 9", "bank": "its spu child process failed"}
    assert reasons[failed.value.party] in str(failed.value)
