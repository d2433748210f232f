"""The registry a party keeps on disk: `registry.db` (SQLite) and a 0700 folder of files
per part, beside (not inside) the job workspaces, so purging a job keeps its model."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

from vfl.registry.model_registry import PART_FILES, ModelRegistry
from vfl.registry.part import RegisteredPart, check_job_id
from vfl.runtime.workspace import FILE_MODE, private_dir

DB = "registry.db"


class SqliteModelRegistry(ModelRegistry):
    """Parts under `root`: `root/registry.db` indexes them, `root/parts/<job id>/` holds
    each part's files (0600). Files are written to a temporary folder that is renamed into
    place before the row is committed, so a crash leaves either the old part or the new."""

    def __init__(self, root: Path) -> None:
        self.root = private_dir(root)
        self._lock = threading.Lock()
        path = self.root / DB
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        path.chmod(FILE_MODE)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS parts (job_id TEXT PRIMARY KEY, created_at REAL NOT "
            "NULL, record TEXT NOT NULL)"
        )

    @staticmethod
    def exists(root: Path) -> bool:
        """Whether `root` holds a registry (without creating one)."""
        return (root / DB).is_file()

    def _folder(self, job_id: str) -> Path:
        return self.root / "parts" / check_job_id(job_id, "model registry")

    def folder_of(self, job_id: str) -> Path:
        """The folder holding a registered part's files (what `vfl model export` reads)."""
        return self._folder(job_id)

    def register(self, part: RegisteredPart, files: dict[str, bytes]) -> None:
        parts = private_dir(self.root / "parts")
        folder = self._folder(part.job_id)
        staging = Path(tempfile.mkdtemp(dir=parts, prefix=f".{part.job_id}."))
        try:
            for name, data in files.items():
                if name not in PART_FILES:
                    raise ValueError(f"model registry: {name!r} is not a part file")
                fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            with self._lock:
                old = folder.with_name(f".{part.job_id}.old")
                if folder.exists():
                    folder.replace(old)
                staging.replace(folder)
                self._db.execute(
                    "INSERT OR REPLACE INTO parts (job_id, created_at, record) VALUES (?, ?, ?)",
                    (part.job_id, part.created_at, json.dumps(part.to_json())),
                )
                shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def get(self, job_id: str) -> RegisteredPart | None:
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM parts WHERE job_id = ?", (job_id,)
            ).fetchone()
        return None if row is None else RegisteredPart.from_json(json.loads(row[0]))

    def parts(self) -> list[RegisteredPart]:
        with self._lock:
            rows = self._db.execute("SELECT record FROM parts ORDER BY created_at").fetchall()
        return [RegisteredPart.from_json(json.loads(r[0])) for r in rows]

    def delete(self, job_id: str) -> bool:
        folder = self._folder(job_id)
        with self._lock:
            cursor = self._db.execute("DELETE FROM parts WHERE job_id = ?", (job_id,))
            shutil.rmtree(folder, ignore_errors=True)
        return cursor.rowcount > 0

    def read_file(self, job_id: str, name: str) -> bytes | None:
        if name not in PART_FILES or self.get(job_id) is None:
            return None
        path = self._folder(job_id) / name
        return path.read_bytes() if path.is_file() else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
