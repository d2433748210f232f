"""The registry's in-memory twin, for tests and runs that keep nothing."""

from __future__ import annotations

import threading

from vfl.registry.model_registry import ModelRegistry
from vfl.registry.part import RegisteredPart


class MemoryModelRegistry(ModelRegistry):
    """Parts and their files in dicts; the same contract as `SqliteModelRegistry`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict[str, RegisteredPart] = {}
        self._files: dict[str, dict[str, bytes]] = {}

    def register(self, part: RegisteredPart, files: dict[str, bytes]) -> None:
        with self._lock:
            self._parts.pop(part.job_id, None)  # re-registered: now the newest
            self._parts[part.job_id] = part
            self._files[part.job_id] = dict(files)

    def get(self, job_id: str) -> RegisteredPart | None:
        with self._lock:
            return self._parts.get(job_id)

    def parts(self) -> list[RegisteredPart]:
        with self._lock:
            return sorted(self._parts.values(), key=lambda p: p.created_at)

    def delete(self, job_id: str) -> bool:
        with self._lock:
            self._files.pop(job_id, None)
            return self._parts.pop(job_id, None) is not None

    def read_file(self, job_id: str, name: str) -> bytes | None:
        with self._lock:
            return self._files.get(job_id, {}).get(name)
