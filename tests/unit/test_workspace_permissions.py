"""A party's files are its own: workspace and state folders 0700, every file 0600.

Checked under a permissive umask (0o000: the OS would make files world-writable) and a
common one, over the whole tree after a job's kinds of files were written, so a file
written by a new code path without the explicit mode is caught too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from parties.node import PartyNode
from vfl.config.party_config import PartyConfig
from vfl.runtime.ledger import LedgerEntry
from vfl.runtime.node_store import NodeStore
from vfl.runtime.workspace import Workspace


@pytest.fixture(params=[0o000, 0o022], ids=["umask-000", "umask-022"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        out[path.relative_to(root).as_posix()] = stat.S_IMODE(path.stat().st_mode)
    return out


def _assert_private(root: Path) -> None:
    for name, mode in _modes(root).items():
        expected = 0o700 if (root / name).is_dir() else 0o600
        assert mode == expected, f"{name}: {oct(mode)}, expected {oct(expected)}"


def test_workspace_folders_are_0700_and_its_files_0600(tmp_path: Path, umask: int) -> None:
    ws = Workspace(tmp_path / "runs" / "job-1" / "bank")
    ws.save_alignment(["a", "b"])
    ws.save_checkpoint("epoch", {"share": torch.zeros(3)})
    ws.save_checkpoint("epoch", {"share": torch.ones(3)})  # replaced, still private
    ws.save_model({"w": torch.ones(2)}, {"job": "job-1"})
    ws.private("secret.key", lambda: b"k" * 32)
    names = set(_modes(ws.root))
    assert {"aligned_ids.txt", "checkpoints/epoch.pt", "model/weights.pt"} <= names
    assert {"model/model.json", "private/secret.key"} <= names
    _assert_private(ws.root)
    assert ws.load_checkpoint("epoch") is not None


def test_an_existing_loose_workspace_is_tightened(tmp_path: Path) -> None:
    root = tmp_path / "bank"
    (root / "private").mkdir(parents=True)
    root.chmod(0o755)
    (root / "private").chmod(0o777)
    ws = Workspace(root)
    ws.private("secret.key", lambda: b"k" * 32)
    _assert_private(root)


def test_node_state_folder_and_sqlite_store_are_private(tmp_path: Path, umask: int) -> None:
    config = PartyConfig(
        name="bank", coordinator="127.0.0.1:1", insecure=True, state_dir=tmp_path / "state"
    )
    node = PartyNode(config)  # not started: nothing connects
    try:
        node.store.record(LedgerEntry("job-1", "sent", "shop", "k", "s#0", 10, "none"))
        node.store.journal_put("job-1", "shop", "s#0", b"body")
        assert {"party.db", "party.db-wal", "jobs"} <= set(_modes(config.state_dir))
        _assert_private(config.state_dir)
    finally:
        node.store.close()


def test_an_existing_world_readable_store_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "state" / "party.db"
    path.parent.mkdir()
    path.parent.chmod(0o755)
    path.touch(mode=0o644)
    path.chmod(0o644)
    NodeStore(path).close()
    _assert_private(path.parent)
