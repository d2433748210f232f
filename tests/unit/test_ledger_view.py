"""`vfl party ledger`: a node's ledger summed per kind, peer and protection, a replayed
message counted once, an unknown job a one-line error naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfl.cli.ledger_view import ledger_report
from vfl.errors import ConfigError
from vfl.registry.locations import NODE_MARKER
from vfl.runtime.ledger import LedgerEntry
from vfl.runtime.node_store import NodeStore
from vfl.units import size

SEAL = "x25519-chacha20poly1305"


def _seeded(state: Path) -> None:
    store = NodeStore(state / NODE_MARKER)
    sent = [
        ("job-a", "hospital", "split_paillier.EncryptedActivations", "1", 4096),
        ("job-a", "hospital", "split_paillier.EncryptedActivations", "2", 4096),
        ("job-a", "hospital", "split_paillier.EncryptedActivations", "2", 4096),  # a replay
        ("job-a", "hospital", "ecdh.Blinded", "3", 100),
        ("job-b", "hospital", "ecdh.Blinded", "1", 10),
    ]
    for job, peer, kind, seq, nbytes in sent:
        store.record(LedgerEntry(job, "sent", peer, kind, seq, nbytes, "paillier", SEAL))
    store.record(LedgerEntry("job-a", "received", "hospital", "x.Y", "9", 999, "paillier", SEAL))
    store.close()


def test_one_job_is_summed_per_kind_and_a_replay_counts_once(tmp_path: Path) -> None:
    _seeded(tmp_path)
    lines = list(ledger_report(tmp_path, "job-a"))
    assert lines[0] == "job job-a: 3 messages, 8.3 KB sent to hospital"
    rows = [line.split() for line in lines[2:]]
    assert rows == [
        ["split_paillier.EncryptedActivations", "hospital", "2", "8.2", "KB", "paillier", SEAL],
        ["ecdh.Blinded", "hospital", "1", "100", "B", "paillier", SEAL],
    ]


def test_without_a_job_the_latest_jobs_are_listed(tmp_path: Path) -> None:
    _seeded(tmp_path)
    heads = [line for line in ledger_report(tmp_path) if line.startswith("job ")]
    assert [h.split(":")[0] for h in heads] == ["job job-b", "job job-a"]


def test_an_unknown_job_or_store_is_one_line_with_the_fix(tmp_path: Path) -> None:
    _seeded(tmp_path)
    with pytest.raises(ConfigError, match=r"--job job-z: this party sent nothing in that job"):
        list(ledger_report(tmp_path, "job-z"))
    with pytest.raises(ConfigError, match="has `vfl party serve` run"):
        list(ledger_report(tmp_path / "nowhere", "job-a"))


def test_sizes_stay_short() -> None:
    assert [size(n) for n in (0, 999, 1500, 5_000_000, 3 * 10**9, 4 * 10**12)] == [
        "0 B",
        "999 B",
        "1.5 KB",
        "5.0 MB",
        "3.0 GB",
        "4000.0 GB",
    ]
