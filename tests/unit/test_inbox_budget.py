"""A job peer cannot fill a party's disk: untaken deliveries count against a per-job budget.

The probe: a peer sent four 64 MiB envelopes under fresh sequence numbers, and the
receiver journaled every one (260 MiB added to its database). Here a flood past the budget
is not journaled and the job is aborted at the receiver, naming the sender; an honest
exchange, whose messages are taken as they arrive, never comes near the budget.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from vfl.errors import LocalFaultError, ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.runtime.inbox import Inbox
from vfl.runtime.node_store import NodeStore

BUDGET = 10_000


def _deliver(inbox: Inbox, seq: str, size: int, job: str = "job-1") -> None:
    envelope = Envelope(job, "shop", "bank", "split.Activations", seq, b"x" * size)
    inbox.deliver(envelope.to_bytes())


def _journal_bytes(store: NodeStore) -> int:
    return sum(len(store.journal_get("job-1", "shop", f"s#{i}") or b"") for i in range(100))


def test_a_flood_of_unasked_messages_is_not_journaled_and_aborts_the_job(tmp_path: Path) -> None:
    store = NodeStore(tmp_path / "bank.db")
    inbox = Inbox(store, "bank", BUDGET)
    for i in range(100):
        _deliver(inbox, f"s#{i}", 1000)
    assert _journal_bytes(store) < BUDGET  # bounded, not 100 kB
    with pytest.raises(ProtocolError, match="shop sent more than"):  # reported, not "aborted"
        inbox.take("job-1", "shop", "s#99", timeout=1)
    _deliver(inbox, "t#0", 1000, job="job-2")  # another job keeps its own budget
    assert inbox.take("job-2", "shop", "t#0", timeout=1).body == b"x" * 1000


def test_messages_taken_as_they_arrive_never_reach_the_budget(tmp_path: Path) -> None:
    """The control: the same bytes, taken one by one, pass; the check above can fail."""
    store = NodeStore(tmp_path / "bank.db")
    inbox = Inbox(store, "bank", BUDGET)
    for i in range(100):
        _deliver(inbox, f"s#{i}", 1000)
        assert inbox.take("job-1", "shop", f"s#{i}", timeout=1).body == b"x" * 1000
    _deliver(inbox, "s#0", 1000)  # a duplicate of a taken message is ignored, not counted
    assert _journal_bytes(store) > 100 * 1000  # every envelope journaled, for replays


@pytest.mark.parametrize(
    "fault",
    [
        sqlite3.OperationalError("database or disk is full"),
        sqlite3.OperationalError("attempt to write a readonly database"),
        OSError(28, "No space left on device", "/srv/vfl/state/party.db"),
    ],
)
def test_a_local_storage_fault_fails_this_partys_job_naming_it_without_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: Exception
) -> None:
    """The probe: a full disk raised inside the coordinator link's stream loop, which then
    reconnected every second and reported nothing; the job died at the peer's timeout,
    blamed on the healthy party. Now the delivery returns normally (the link keeps its
    stream) and the waiting program fails at once with this party's own fault."""
    store = NodeStore(tmp_path / "bank.db")
    inbox = Inbox(store, "bank", BUDGET)

    def broken(*args: object) -> bool:
        raise fault

    monkeypatch.setattr(store, "journal_put", broken)
    _deliver(inbox, "s#0", 10)  # does not raise into the link
    with pytest.raises(LocalFaultError) as caught:
        inbox.take("job-1", "shop", "s#0", timeout=5)
    message = str(caught.value)
    assert message.startswith("bank cannot store messages: ")
    assert "/srv" not in message and "\n" not in message
    inbox.forget("job-1")
    monkeypatch.undo()  # fixed: the next job stores and takes its mail again
    _deliver(inbox, "s#0", 10, job="job-2")
    assert inbox.take("job-2", "shop", "s#0", timeout=1).body == b"x" * 10
