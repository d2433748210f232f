"""A party restarted mid-rr22 never ends with a wrong intersection: spu's messages are not
reproducible, so the restarted party's `rr22.SetSize` carries a new random attempt id,
the replay guard (`PartyContext.send`) refuses it, and the job fails, to be run again.
Resuming spu mid-run is not possible; restarting the align phase in place would need
fresh sequence scopes that both parties agree on (not built)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from tests.unit.psi.harness import job, needs_fastpsi, oracle, rr22
from tests.unit.psi.test_psi_single_restart import AlignRun, F, L, _sets
from vfl.errors import ReplayError

pytestmark = needs_fastpsi


class Rr22AlignRun(AlignRun):
    """The single-restart harness, with rr22 programs."""

    def __init__(self, sets: dict[str, list[str]], root: Path) -> None:
        super().__init__("ecdh", sets, root)
        self.factory = rr22
        self.spec = job([L, F], "rr22")


@pytest.mark.parametrize("victim", [L, F])
def test_a_restart_mid_rr22_fails_the_job_and_stores_no_wrong_rows(
    tmp_path: Path, victim: str
) -> None:
    sets = _sets(L)
    reference = Rr22AlignRun(sets, tmp_path / "reference")
    reference.run()
    assert reference.aligned(L) == reference.aligned(F) == oracle(sets)
    frames = [e.seq for e in reference.hub.envelopes if e.src == victim and e.kind == "rr22.Frame"]
    run = Rr22AlignRun(sets, tmp_path / "restart")
    with contextlib.suppress(AssertionError):  # the peer fails too, once the job aborts
        run.run(victim, crash_at=frames[-1])  # the victim dies before its end frame
    assert isinstance(run.errors.get(victim), ReplayError)
    assert "rr22.SetSize" in str(run.errors[victim])  # before any new frame left
    for party in (L, F):
        assert run.aligned(party) in (None, oracle(sets))
