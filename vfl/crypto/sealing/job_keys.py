"""Where a party's per-job X25519 private keys live until their job is purged.

A node killed mid-job must come back with the same per-job key: its peers admitted the
public half, the bodies in its inbox journal were sealed to it, and a resumed program
re-sends under the same sequence numbers. So `FileJobKeys` keeps each key in the job's
private state (`jobs/<job>/private/`, 0600 in 0700, fsync'd before first use, see
`Workspace.private`) and `erase` overwrites it with zeros, fsyncs, unlinks it and fsyncs
the folder.

What erasing a file can and cannot promise: the unlink is durable and the overwrite
replaces the bytes in place on ext4/xfs without data journalling; a copy-on-write or
log-structured filesystem (btrfs, ZFS, f2fs), an SSD's flash translation layer, a
snapshot or a backup of the state folder may still hold the old bytes. Forward secrecy
against a later theft of the disk needs the state folder on an encrypted volume (or
outside snapshots); against a later theft of the party's certificate or long-term key it
holds as soon as the file is gone. `MemoryJobKeys` serves simulations and tests.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

from vfl.crypto.sealing.job_key import new_private
from vfl.runtime.workspace import Workspace

KEY_FILE = "sealing_job_x25519.key"


class JobKeys(Protocol):
    def load_or_create(self, job_id: str) -> bytes:
        """The job's 32-byte private key, made from fresh randomness the first time.

        Durable implementations must have stored a new key when they return it.
        """
        ...

    def erase(self, job_id: str) -> None:
        """Destroy the job's key; a job never seen is not an error."""
        ...


class MemoryJobKeys:
    """Per-job keys in a dict: for simulations and tests, where no process restarts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}

    def load_or_create(self, job_id: str) -> bytes:
        with self._lock:
            return self._keys.setdefault(job_id, new_private())

    def erase(self, job_id: str) -> None:
        with self._lock:
            self._keys.pop(job_id, None)


class FileJobKeys:
    """Per-job keys in each job's private folder under `jobs_root` (a node's state/jobs)."""

    def __init__(self, jobs_root: Path) -> None:
        self.jobs_root = jobs_root

    def path(self, job_id: str) -> Path:
        return self.jobs_root / job_id / "private" / KEY_FILE

    def load_or_create(self, job_id: str) -> bytes:
        return Workspace(self.jobs_root / job_id).private(KEY_FILE, new_private)

    def erase(self, job_id: str) -> None:
        path = self.path(job_id)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            os.pwrite(fd, bytes(size), 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
