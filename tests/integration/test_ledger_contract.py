"""One contract, two ledgers: the simulator's in memory and a party node's SQLite.

What `PartyContext.send` relies on for the replay guard: the first digest of a body sent
as (job, receiver, seq) is kept and handed back, whoever asks later — a restarted program
(fresh counters, same ledger) and, for SQLite, a restarted node process. Through a real
context: an identical re-send goes out again (peers drop the copy, as deployment resume
needs); a different body under a used number is refused before it reaches the channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec
from vfl.errors import ReplayError
from vfl.protocol import serde
from vfl.protocol.content import Content
from vfl.protocol.envelope import Envelope
from vfl.runtime.context import PartyContext, party_context
from vfl.runtime.events import NullReporter
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import Ledger, MemoryLedger
from vfl.runtime.node_store import NodeStore
from vfl.runtime.workspace import Workspace

JOB = "job-1"


@serde.message("test.Masked", Content.MASKED)
@dataclass(frozen=True)
class Masked:
    value: int


@dataclass
class Ledgers:
    """`open()` gives the party's ledger as a restarted program (or node) finds it."""

    open: Callable[[], Ledger]


@pytest.fixture(params=["memory", "sqlite"])
def ledgers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledgers]:
    if request.param == "memory":
        memory = MemoryLedger()
        yield Ledgers(lambda: memory)
        return
    stores: list[NodeStore] = []

    def reopen() -> Ledger:  # a node restarted after kill -9 opens its file again
        if stores:
            stores[-1].close()
        stores.append(NodeStore(tmp_path / "state" / "party.db"))
        return stores[-1]

    yield Ledgers(reopen)
    stores[-1].close()


class RecordingChannel:
    """The in-memory channel, noting every envelope handed to the transport."""

    def __init__(self, hub: InMemoryHub, party: str) -> None:
        self._inner = hub.channel(party)
        self.sent: list[Envelope] = []
        self.party = party
        self.sealing = "none"

    def send(self, envelope: Envelope) -> None:
        self.sent.append(envelope)
        self._inner.send(envelope)

    def recv(self, job_id: str, src: str, seq: str, timeout: float) -> Envelope:
        return self._inner.recv(job_id, src, seq, timeout)


def _program_run(tmp_path: Path, ledger: Ledger, channel: RecordingChannel) -> PartyContext:
    """A fresh context (fresh sequence counters), as a restarted program gets."""
    paths = {"bank": tmp_path / "bank.csv", "shop": tmp_path / "shop.csv"}
    return party_context(
        job_spec(job_dict(paths)),
        "shop",
        JOB,
        "train",
        channel=channel,
        workspace=Workspace(tmp_path / "shop"),
        reporter=NullReporter(),
        ledger=ledger,
    )


def test_the_first_digest_is_kept_per_job_receiver_and_seq(ledgers: Ledgers) -> None:
    ledger = ledgers.open()
    assert ledger.remember_sent(JOB, "bank", "train#0", b"a" * 32) == b"a" * 32
    assert ledger.remember_sent(JOB, "bank", "train#0", b"b" * 32) == b"a" * 32
    assert ledger.remember_sent(JOB, "lab", "train#0", b"b" * 32) == b"b" * 32
    assert ledger.remember_sent(JOB, "bank", "train#1", b"b" * 32) == b"b" * 32
    assert ledger.remember_sent("job-2", "bank", "train#0", b"b" * 32) == b"b" * 32
    assert ledgers.open().remember_sent(JOB, "bank", "train#0", b"c" * 32) == b"a" * 32


def test_an_identical_resend_after_a_restart_goes_out(tmp_path: Path, ledgers: Ledgers) -> None:
    hub = InMemoryHub()
    channel = RecordingChannel(hub, "shop")
    first = _program_run(tmp_path, ledgers.open(), channel)
    first.send("bank", Masked(41))
    first.send("bank", Masked(42))
    again = _program_run(tmp_path, ledgers.open(), channel)
    again.send("bank", Masked(41))
    again.send("bank", Masked(42))
    again.send("bank", Masked(43))  # and on past where the first run stopped
    assert [e.seq for e in channel.sent] == ["train#0", "train#1"] * 2 + ["train#2"]
    assert hub.pending(JOB) == 3  # the copies were dropped, first copy wins


def test_a_different_body_under_a_used_seq_is_refused_unsent(
    tmp_path: Path, ledgers: Ledgers
) -> None:
    hub = InMemoryHub()
    channel = RecordingChannel(hub, "shop")
    _program_run(tmp_path, ledgers.open(), channel).send("bank", Masked(41))
    again = _program_run(tmp_path, ledgers.open(), channel)  # e.g. a mask drawn from the OS
    with pytest.raises(ReplayError) as exc:
        again.send("bank", Masked(7))
    assert str(exc.value).startswith(
        "job job-1: message train#0 (test.Masked) to bank was already sent with another body"
    )
    assert "\n" not in str(exc.value)
    assert len(channel.sent) == 1  # the different body never reached the transport
    other = _program_run(tmp_path, ledgers.open(), channel).scoped(epoch=1)
    other.send("bank", Masked(7))  # another sequence number is free to carry it
