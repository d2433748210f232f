"""Context sequencing, the in-memory hub, the simulator's failure handling."""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.api import simulate
from vfl.errors import JobAbortedError, PeerUnavailableError, ProtocolError
from vfl.protocol import serde
from vfl.protocol.content import Content
from vfl.protocol.envelope import Envelope
from vfl.result import AttackFinding, JobResult, PrivacyResult
from vfl.runtime.context import PartyContext
from vfl.runtime.events import NullReporter
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.program import Program
from vfl.runtime.simulator import PartyFailedError, PartyRun, run_phase
from vfl.runtime.workspace import Workspace


@serde.message("test.Ping", Content.PLAIN)
@dataclass(frozen=True)
class Ping:
    n: int


@serde.message("test.Pong", Content.PLAIN)
@dataclass(frozen=True)
class Pong:
    n: int


def _ctx(tmp_path: Path, hub: InMemoryHub, party: str, timeout: float = 5) -> PartyContext:
    paths = {"bank": tmp_path / "bank.csv", "shop": tmp_path / "shop.csv"}
    spec = job_spec(job_dict(paths, train={"timeout_s": timeout}))
    return PartyContext(
        party=party,
        role="x",
        job=spec,
        job_id="job-1",
        channel=hub.channel(party),
        workspace=Workspace(tmp_path / party),
        reporter=NullReporter(),
        ledger=MemoryLedger(),
    )


def test_scoped_sequences_match_each_send_to_one_recv(tmp_path: Path) -> None:
    hub = InMemoryHub()
    bank, shop = _ctx(tmp_path, hub, "bank"), _ctx(tmp_path, hub, "shop")
    for epoch in (1, 0):  # sent out of order across scopes, received in order
        for n in range(3):
            bank.scoped(epoch=epoch).send("shop", Ping(epoch * 10 + n))
    got = [shop.scoped(epoch=e).recv("bank", Ping).n for e in (0, 1) for _ in range(3)]
    assert got == [0, 1, 2, 10, 11, 12]
    assert hub.pending("job-1") == 0


def test_duplicate_delivery_is_received_once(tmp_path: Path) -> None:
    hub = InMemoryHub()
    env = Envelope("job-1", "bank", "shop", serde.kind_of(Ping), "#0", serde.encode(Ping(1)))
    hub.post(env)
    hub.post(env)
    shop = _ctx(tmp_path, hub, "shop", timeout=0.2)
    assert shop.recv("bank", Ping).n == 1
    hub.post(env)  # a late duplicate after delivery is dropped too
    with pytest.raises(PeerUnavailableError, match=r"no message #1 from bank"):
        shop.recv("bank", Ping)


def test_receiving_the_wrong_kind_is_a_protocol_error(tmp_path: Path) -> None:
    hub = InMemoryHub()
    _ctx(tmp_path, hub, "bank").send("shop", Ping(1))
    with pytest.raises(ProtocolError, match=r"expected test\.Pong, received test\.Ping"):
        _ctx(tmp_path, hub, "shop").recv("bank", Pong)


def test_a_party_cannot_send_as_another(tmp_path: Path) -> None:
    hub = InMemoryHub()
    with pytest.raises(ProtocolError, match="cannot send as bank"):
        hub.channel("shop").send(Envelope("job-1", "bank", "shop", "k", "#0", b""))


def test_abort_wakes_waiters(tmp_path: Path) -> None:
    hub = InMemoryHub()
    shop = _ctx(tmp_path, hub, "shop", timeout=30)
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            shop.recv("bank", Ping)
        except JobAbortedError as exc:
            errors.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    hub.abort("job-1", "party bank failed")
    thread.join(5)
    assert not thread.is_alive()
    assert "party bank failed" in str(errors[0])


def test_ledger_counts_bytes_both_ways(tmp_path: Path) -> None:
    hub = InMemoryHub()
    bank, shop = _ctx(tmp_path, hub, "bank"), _ctx(tmp_path, hub, "shop")
    bank.send("shop", Ping(5))
    shop.recv("bank", Ping)
    sent, received = bank.ledger.totals("job-1"), shop.ledger.totals("job-1")
    assert sent["sent"] == received["received"] == len(serde.encode(Ping(5))) > 0


class _Fails(Program):
    phase = "test"

    def run(self, ctx: PartyContext) -> None:
        raise ProtocolError("split.Activations from shop: expected shape (4, 2)")


class _Waits(Program):
    phase = "test"

    def run(self, ctx: PartyContext) -> None:
        ctx.recv("bank", Ping)


def test_a_failing_party_stops_its_peers_and_is_named(tmp_path: Path) -> None:
    hub = InMemoryHub()
    runs = {
        "bank": PartyRun(_Fails(), _ctx(tmp_path, hub, "bank", timeout=60)),
        "shop": PartyRun(_Waits(), _ctx(tmp_path, hub, "shop", timeout=60)),
    }
    with pytest.raises(PartyFailedError) as info:
        run_phase(hub, "job-1", runs)
    assert info.value.party == "bank"
    assert isinstance(info.value.cause, ProtocolError)
    assert str(info.value).startswith("party bank: split.Activations from shop")


def test_simulate_counts_bytes_per_party(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=60)
    result = simulate(job_spec(job_dict(paths, train={"epochs": 1})), workdir=tmp_path / "ok")
    assert result.status == "succeeded"
    assert result.align["intersection_size"] == 60
    assert result.bytes["bank"]["sent"] == result.bytes["shop"]["received"] > 0


def test_simulate_returns_a_failed_result_naming_party_and_reason(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=30)
    shop = paths["shop"].read_text().replace("id-", "other-")
    paths["shop"].write_text(shop)
    result = simulate(job_spec(job_dict(paths, train={"timeout_s": 20})), workdir=tmp_path / "r")
    assert result.status == "failed"
    assert result.error is not None
    assert "share no IDs" in result.error
    assert result.error.startswith("party ")


@given(st.lists(st.text().filter(lambda s: "\n" not in s and "\r" not in s and s), unique=True))
def test_aligned_ids_round_trip_exactly(ids: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp))
        workspace.save_alignment(ids)
        assert workspace.load_alignment() == tuple(ids)


def test_unusual_separators_inside_ids_survive(tmp_path: Path) -> None:
    ids = ["a\x1eb", "c\u2028d", "e\x85f", "g\x0ch", "007"]
    workspace = Workspace(tmp_path)
    workspace.save_alignment(ids)
    assert workspace.load_alignment() == tuple(ids)


def test_a_result_round_trips_through_its_json_dict() -> None:
    """What the CLI rebuilds from the coordinator's stored JSON prints like a simulated one."""
    result = JobResult(
        job="j",
        job_id="j-1",
        mode="vertical",
        privacy=PrivacyResult(
            {"delta": 1e-5}, {"lab": 1.0}, [AttackFinding("lab", "h", "norm", "auc", 0.6)]
        ),
    )
    assert JobResult.from_dict(result.to_dict()) == result
