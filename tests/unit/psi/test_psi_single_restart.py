"""One party of an align dies after exchanging PSI messages and restarts alone.

What a deployment does after `kill -9` of one party node mid-align (docs/architecture.md,
Resume): the victim's program dies just before its last send to the peer; a new program
on the same workspace re-sends from the start (the hub drops the copies, as the relay
does) and is handed the replies it had already received (`JournalHub`, like the inbox
journal), computed under the secrets it had the first time. The peer keeps running.
Checked: every re-sent body is byte-identical to the first, and both parties store the
Python set intersection. Each party keeps one ledger across the restart, as a node keeps
its SQLite, so the replay guard (`PartyContext.send`) watches every re-send. A control
restart with the victim's private folder wiped (new secrets) must NOT end with it, so the
check can fail: the guard stops it at its first different body.
"""

from __future__ import annotations

import contextlib
import shutil
import stat
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from psi.ids import MemoryIds
from psi.rsa.key_store import key_file
from tests.unit.psi.harness import Collect, ecdh, job, oracle, rsa
from tests.unit.split_paillier.restart_harness import CrashError, CrashingChannel, JournalHub
from vfl.errors import ReplayError
from vfl.runtime.channel import Channel
from vfl.runtime.context import PartyContext, party_context
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.program import Program
from vfl.runtime.workspace import Workspace

L, F = "bank", "shop"
SHARED = [f"id-{i:03d}" for i in range(0, 60, 2)]


def _sets(larger: str) -> dict[str, list[str]]:
    small = SHARED + [f"{F}-only-{i}" for i in range(7)]
    big = SHARED + [f"{L}-only-{i}" for i in range(25)]
    return {L: big, F: small} if larger == L else {L: small, F: big}


class AlignRun:
    """Both parties' align programs; `victim` crashes before sending `crash_at`, restarts."""

    def __init__(self, protocol: str, sets: dict[str, list[str]], root: Path) -> None:
        self.factory: Callable[..., Program] = rsa if protocol == "rsa" else ecdh
        self.spec = job([L, F], "rsa" if protocol == "rsa" else "ecdh")
        self.sets = sets
        self.root = root
        self.hub = JournalHub()
        self.workspaces = {n: Workspace(root / n) for n in sets}
        self.ledgers = {n: MemoryLedger() for n in sets}  # kept across a restart

    def _ctx(self, name: str, channel: Channel) -> PartyContext:
        return party_context(
            self.spec,
            name,
            "job-1",
            "align",
            channel=channel,
            workspace=self.workspaces[name],
            reporter=Collect(),
            ledger=self.ledgers[name],
        )

    def _program(self, name: str) -> Program:
        role = "label_holder" if name == L else "feature_holder"
        return self.factory(role, MemoryIds(f"{name}.csv[id]", self.sets[name]))

    def run(self, victim: str | None = None, crash_at: str = "", wipe: bool = False) -> None:
        errors: dict[str, BaseException] = {}
        crashing = CrashingChannel(self.hub.channel(victim or L), crash_at)
        self.errors = errors

        def party(name: str) -> None:
            try:
                if name == victim:
                    with contextlib.suppress(CrashError):
                        self._program(name).run(self._ctx(name, crashing))
                    if wipe:  # the control: a restart that lost its secrets
                        shutil.rmtree(self.workspaces[name].root / "private")
                self._program(name).run(self._ctx(name, self.hub.channel(name)))
            except BaseException as exc:  # reported below
                errors[name] = exc
                self.hub.abort("job-1", f"party {name} failed")

        threads = [threading.Thread(target=party, args=(n,), daemon=True) for n in self.sets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            name, exc = next(iter(errors.items()))
            raise AssertionError(f"party {name} failed: {exc!r}") from exc
        assert victim is None or crashing.crashed, f"{victim} never reached {crash_at}"

    def aligned(self, name: str) -> list[str] | None:
        ws = self.workspaces[name]
        return list(ws.load_alignment()) if ws.has_alignment() else None


def _last_send(protocol: str, sets: dict[str, list[str]], victim: str, root: Path) -> str:
    """The victim's last message in an uninterrupted run: by then it has exchanged all else."""
    reference = AlignRun(protocol, sets, root)
    reference.run()
    assert reference.aligned(L) == oracle(sets)
    return [e.seq for e in reference.hub.envelopes if e.src == victim][-1]


CASES = [
    ("ecdh", L, L),
    ("ecdh", F, L),
    ("rsa", L, L),  # L signs, F is the client
    ("rsa", F, L),
    ("rsa", L, F),  # F signs, L is the client
    ("rsa", F, F),
]


@pytest.mark.parametrize(("protocol", "victim", "larger"), CASES)
def test_lone_restart_resends_identical_envelopes_and_aligns_correctly(
    tmp_path: Path, protocol: str, victim: str, larger: str
) -> None:
    sets = _sets(larger)
    crash_at = _last_send(protocol, sets, victim, tmp_path / "reference")
    run = AlignRun(protocol, sets, tmp_path / "restart")
    run.run(victim, crash_at)

    sent: dict[str, list[bytes]] = defaultdict(list)
    kinds: dict[str, str] = {}
    for env in run.hub.envelopes:
        if env.src == victim:
            sent[env.seq].append(env.body)
            kinds[env.seq] = env.kind
    replayed = {seq: bodies for seq, bodies in sent.items() if len(bodies) > 1}
    assert all(len(bodies) == 2 for bodies in replayed.values())
    differing = [seq for seq, (first, again) in replayed.items() if first != again]
    assert differing == [], f"{victim} re-sent different bodies for {differing}"
    # everything sent before the crash was replayed, real PSI messages among them
    before = list(sent)[: list(sent).index(crash_at)]
    assert set(replayed) == set(before)
    assert any(not kinds[seq].startswith("psi.") for seq in replayed)
    assert run.aligned(L) == run.aligned(F) == oracle(sets)
    signer = L if larger == L else F
    if protocol == "rsa":
        key = run.workspaces[signer].root / "private" / key_file("job-1")
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize("victim", [L, F])
def test_lone_restart_with_new_secrets_does_not_align_correctly(
    tmp_path: Path, victim: str
) -> None:
    sets = _sets(L)
    crash_at = _last_send("ecdh", sets, victim, tmp_path / "reference")
    run = AlignRun("ecdh", sets, tmp_path / "restart")
    with contextlib.suppress(AssertionError):  # a peer may also notice and fail
        run.run(victim, crash_at, wipe=True)
    assert run.aligned(L) != oracle(sets) or run.aligned(F) != oracle(sets)
    assert isinstance(run.errors.get(victim), ReplayError)  # stopped before re-sending


@pytest.mark.parametrize(("protocol", "victim"), [("ecdh", F), ("rsa", F), ("rsa", L)])
def test_a_restart_after_storing_its_rows_resends_the_same_bodies(
    tmp_path: Path, protocol: str, victim: str
) -> None:
    """Killed after it stored its alignment, before its node recorded the phase done: the
    align runs again and re-sends AlignCheck as it did first ("nothing stored"), which the
    replay guard would refuse were it recomputed ("stored", with a digest)."""
    sets = _sets(L)
    run = AlignRun(protocol, sets, tmp_path)
    run.run()
    assert run.aligned(victim) == oracle(sets)
    run.sets = {victim: sets[victim]}  # the peer is done; the victim runs alone
    run.run()
    assert run.aligned(L) == run.aligned(F) == oracle(sets)
    resent = [e for e in run.hub.envelopes if e.src == victim]
    by_seq: dict[str, set[bytes]] = defaultdict(set)
    for env in resent:
        by_seq[env.seq].add(env.body)
    assert len(resent) == 2 * len(by_seq) and all(len(b) == 1 for b in by_seq.values())
