"""Obfuscators by named stream: the same stream gives the same ciphertexts, whatever was
computed ahead, and no index of a stream is handed out twice in a run."""

from __future__ import annotations

from pathlib import Path

from vfl.crypto.engine import PaillierEngine
from vfl.crypto.testing import insecure_keypair
from vfl.crypto.worker_pool import WorkerPool
from vfl.runtime.party_secret import DerivedRandomness, PartySecret
from vfl.runtime.workspace import Workspace

KEYS = insecure_keypair(512)


def _streams(root: Path) -> tuple[DerivedRandomness, DerivedRandomness, DerivedRandomness]:
    secret = PartySecret.load(Workspace(root), "job", "shop", b"spec")
    return (
        secret.derive("obf", "train/batch=0"),
        secret.derive("obf", "train/batch=1"),
        secret.derive("obf", "train/batch=2"),
    )


def test_a_stream_gives_the_same_ciphertexts_with_or_without_prefill(tmp_path: Path) -> None:
    b0, b1, b2 = _streams(tmp_path)
    plain = PaillierEngine.owner(KEYS, WorkerPool(1))
    first = plain.encrypt([1, 2, 3], b0) + plain.encrypt([4, 5], b0) + plain.encrypt([6], b1)
    ahead = PaillierEngine.owner(KEYS, WorkerPool(1))
    ahead.prefill(b1, 70)  # more than one chunk, for a stream used later
    ahead.prefill(b2, 3)  # a guess that never comes
    again = ahead.encrypt([1, 2, 3], b0) + ahead.encrypt([4, 5], b0) + ahead.encrypt([6], b1)
    assert first == again
    assert len(set(first)) == 6
    assert [int(m) for m in plain.decrypt(first)] == [1, 2, 3, 4, 5, 6]


def test_public_key_engine_and_key_owner_draw_the_same_obfuscators(tmp_path: Path) -> None:
    b0, _, _ = _streams(tmp_path)
    owner = PaillierEngine.owner(KEYS, WorkerPool(1))
    public = PaillierEngine(KEYS.public, WorkerPool(1))
    assert owner.obfuscators(b0, 4) == public.obfuscators(b0, 4)


def test_a_released_stream_continues_where_it_stopped(tmp_path: Path) -> None:
    b0, b1, _ = _streams(tmp_path)
    engine = PaillierEngine(KEYS.public, WorkerPool(1))
    early = engine.obfuscators(b0, 2)
    engine.obfuscators(b1, 1)  # releases b0's pool
    late = engine.obfuscators(b0, 2)
    reference = PaillierEngine(KEYS.public, WorkerPool(1)).obfuscators(b0, 4)
    assert early + late == reference


def test_worker_processes_give_the_same_ciphertexts(tmp_path: Path) -> None:
    b0, b1, _ = _streams(tmp_path)
    pool = WorkerPool(2)
    try:
        engine = PaillierEngine.owner(KEYS, pool)
        engine.prefill(b1, 5)
        got = engine.encrypt(list(range(9)), b0) + engine.encrypt([7], b1)
    finally:
        pool.close()
    inline = PaillierEngine.owner(KEYS, WorkerPool(1))
    assert got == inline.encrypt(list(range(9)), b0) + inline.encrypt([7], b1)
