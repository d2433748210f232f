"""`vfl party ledger`: a node's ledger summed per kind, peer and protection, a replayed
message counted once, an unknown job a one-line error naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfl.cli.ledger_view import ledger_report
from vfl.cli.message_catalog import MESSAGE_MODULES, UNKNOWN, content
from vfl.errors import ConfigError
from vfl.protocol import serde
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
    cut, psi = "split_paillier.EncryptedActivations", "ecdh.Blinded"
    assert rows == [
        [cut, "hospital", "2", "8.2", "KB", "paillier", "paillier", SEAL],
        [psi, "hospital", "1", "100", "B", "blinded", "paillier", SEAL],
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


def test_every_kind_a_party_can_send_says_what_its_recipient_reads() -> None:
    """The catalog's modules cover every message the party programs register, so no row of
    a ledger shows `unknown` for a kind of this version; and the column tells a Paillier
    ciphertext from what a protocol reveals in the clear."""
    import parties.programs  # noqa: F401, PLC0415 (registers every program's messages)

    kinds = [k for k in serde.registered_kinds() if not k.startswith("test.")]
    assert len(kinds) > 50
    assert [k for k in kinds if serde.message_class(k).__module__ not in MESSAGE_MODULES] == []
    assert [k for k in kinds if content(k) == UNKNOWN] == []
    assert content("split_paillier.EncryptedActivations") == "paillier"
    assert content("split.Activations") == "plain"
    assert content("ecdh.Blinded") == "blinded"
    assert content("made.Up") == UNKNOWN
