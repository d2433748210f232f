"""What a relay can do to sealed bodies, and that each attempt is refused by the receiver:
tampering, truncation, moving a body to another message, kind or job, replaying a body,
reusing a nonce, and sending unsealed bodies. Identical duplicates are the channels' job
(dropped by (job, src, seq) before opening) and are covered by the channel contract."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.sealing_harness import Federation, federation
from vfl.crypto.sealing import MemoryCounters, PairwiseSealer
from vfl.crypto.sealing.pairwise_sealer import COUNTER_BLOCK
from vfl.errors import ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.runtime.node_store import NodeStore

JOB, OTHER_JOB = "job-1", "job-2"


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    return federation(tmp_path_factory.mktemp("sealing"), ("a", "b", "c"))


def _env(seq: str = "train/epoch=0#0", body: bytes = b"activations", job: str = JOB) -> Envelope:
    return Envelope(job, "a", "b", "split.Activations", seq, body)


def _pair(fed: Federation) -> tuple[PairwiseSealer, PairwiseSealer]:
    return fed.admitted("a", (JOB, OTHER_JOB)), fed.admitted("b", (JOB, OTHER_JOB))


def test_sealed_body_opens_to_the_original_envelope(fed: Federation) -> None:
    a, b = _pair(fed)
    sealed = a.seal(_env())
    assert sealed.body != b"activations" and b"activations" not in sealed.body
    assert len(sealed.body) == len(b"activations") + 25  # format, counter, tag
    assert b.open(sealed) == _env()


def test_each_direction_and_each_job_has_its_own_key(fed: Federation) -> None:
    a, b = _pair(fed)
    back = b.seal(Envelope(JOB, "b", "a", "k", "s#0", b"x"))
    assert a.open(back).body == b"x"
    with pytest.raises(ProtocolError, match="no sealing key"):
        b.open(replace(back, src="b", dst="b"))  # b has no key for mail from itself
    c = fed.admitted("c", (JOB,))
    with pytest.raises(ProtocolError, match="failed authentication"):
        c.open(replace(a.seal(_env()), dst="c"))  # a body for b readdressed to c


@pytest.mark.parametrize("position", [1, 5, 12, -1, -17])
def test_tampered_body_is_refused(fed: Federation, position: int) -> None:
    a, b = _pair(fed)
    sealed = a.seal(_env())
    body = bytearray(sealed.body)
    body[position] ^= 0x01  # in the counter, the ciphertext or the tag
    with pytest.raises(ProtocolError, match="failed authentication"):
        b.open(replace(sealed, body=bytes(body)))


@pytest.mark.parametrize("keep", [0, 8, 24, -1])
def test_truncated_body_is_refused(fed: Federation, keep: int) -> None:
    a, b = _pair(fed)
    sealed = a.seal(_env())
    with pytest.raises(ProtocolError, match=r"truncated|failed authentication"):
        b.open(replace(sealed, body=sealed.body[:keep]))


@pytest.mark.parametrize("field", ["seq", "kind", "job_id"])
def test_body_moved_to_another_header_is_refused(fed: Federation, field: str) -> None:
    a, b = _pair(fed)
    sealed = a.seal(_env())
    new = OTHER_JOB if field == "job_id" else "train/epoch=9#0"
    moved = Envelope(**{**sealed.__dict__, field: new})
    with pytest.raises(ProtocolError, match="failed authentication"):
        b.open(moved)


def test_reordered_bodies_are_refused(fed: Federation) -> None:
    a, b = _pair(fed)
    first, second = a.seal(_env("s#0", b"first")), a.seal(_env("s#1", b"second"))
    with pytest.raises(ProtocolError, match="failed authentication"):
        b.open(replace(first, body=second.body))
    with pytest.raises(ProtocolError, match="failed authentication"):
        b.open(replace(second, body=first.body))
    assert b.open(second).body == b"second"  # in any order, each under its own header
    assert b.open(first).body == b"first"


def test_replayed_body_under_a_later_sequence_number_is_refused(fed: Federation) -> None:
    a, b = _pair(fed)
    old = a.seal(_env("train/epoch=0#0", b"old"))
    assert b.open(old).body == b"old"
    with pytest.raises(ProtocolError, match="failed authentication"):
        b.open(replace(old, seq="train/epoch=1#0"))


def test_cross_job_body_is_refused_even_with_an_identical_header(fed: Federation) -> None:
    a, b = _pair(fed)
    in_job_1 = a.seal(_env(job=JOB))
    with pytest.raises(ProtocolError, match="failed authentication"):
        b.open(replace(in_job_1, job_id=OTHER_JOB))


def test_a_reused_nonce_is_detected_by_the_receiver(fed: Federation) -> None:
    b = fed.admitted("b", (JOB,))
    lost = fed.admitted("a", (JOB,))
    assert b.open(lost.seal(_env("s#0", b"one"))).body == b"one"
    amnesiac = fed.admitted("a", (JOB,))  # a sender that lost its counters: counter 0 again
    with pytest.raises(ProtocolError, match="already used by message s#0"):
        b.open(amnesiac.seal(_env("s#1", b"two")))


def test_unsealed_body_is_refused(fed: Federation) -> None:
    _, b = _pair(fed)
    with pytest.raises(ProtocolError, match="truncated"):
        b.open(_env(body=b"short plaintext"))
    with pytest.raises(ProtocolError, match="not sealed"):
        b.open(_env(body=b"\x0a" + bytes(40)))


def test_job_without_admitted_keys_cannot_seal(fed: Federation) -> None:
    a = fed.sealer("a")
    with pytest.raises(ProtocolError, match="no sealing key"):
        a.seal(_env())


def test_counters_never_repeat_across_a_restart(fed: Federation, tmp_path: Path) -> None:
    """A resumed program re-sends a sequence number, maybe with other bytes: new nonce."""
    store = NodeStore(tmp_path / "party.db")
    b = fed.admitted("b", (JOB,))
    before = fed.admitted("a", (JOB,), store)
    first = before.seal(_env("s#0", b"epoch 3, first try"))
    store.close()
    store = NodeStore(tmp_path / "party.db")  # the node restarted after kill -9
    after = fed.admitted("a", (JOB,), store)
    again = after.seal(_env("s#0", b"epoch 3, resumed"))
    assert first.body[1:9] != again.body[1:9]
    assert int.from_bytes(again.body[1:9], "big") == COUNTER_BLOCK
    assert b.open(first).body == b"epoch 3, first try"
    assert b.open(again).body == b"epoch 3, resumed"  # same seq, new counter: accepted
    store.close()


def test_counters_are_per_receiver_and_job() -> None:
    counters = MemoryCounters()
    assert [counters.reserve("j", "b", 4), counters.reserve("j", "b", 4)] == [0, 4]
    assert counters.reserve("j", "c", 4) == 0
    assert counters.reserve("k", "b", 4) == 0
