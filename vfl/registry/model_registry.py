"""The registry seam: one interface, a SQLite + files implementation for party nodes and
simulator folders, and an in-memory twin for tests (one contract suite runs on both,
tests/unit/registry/test_registry_contract.py)."""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from vfl.errors import ConfigError
from vfl.registry.part import RegisteredPart, check_job_id

WEIGHTS = "weights.pt"
META = "model.json"
PART_FILES = (WEIGHTS, "weights.npz", META)
"""The files a published part may have (torch programs: weights.pt; numpy-only: .npz)."""


class ModelRegistry(ABC):
    """One party's trained parts, by training job id."""

    @abstractmethod
    def register(self, part: RegisteredPart, files: dict[str, bytes]) -> None:
        """Keep `part` with its published files (name → bytes); replaces a part of the
        same job id (a node that re-ran its last phase after a restart)."""

    @abstractmethod
    def get(self, job_id: str) -> RegisteredPart | None:
        """The part trained by `job_id`, or None."""

    @abstractmethod
    def parts(self) -> list[RegisteredPart]:
        """Every registered part, oldest first."""

    @abstractmethod
    def delete(self, job_id: str) -> bool:
        """Forget the part of `job_id` and its files; whether there was one."""

    @abstractmethod
    def read_file(self, job_id: str, name: str) -> bytes | None:
        """One of the part's files, or None if it has no such file."""

    def require(self, job_id: str, where: str) -> RegisteredPart:
        """The part of `job_id`; a one-line ConfigError naming `where` if there is none."""
        part = self.get(check_job_id(job_id, where))
        if part is None:
            raise ConfigError(
                f"{where}: no model part of job {job_id!r} in this party's registry; "
                "`vfl model list` shows the registered ones"
            )
        return part

    def load(self, job_id: str, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The part's torch state (`torch.load(weights_only=True)`: never unpickles
        objects) and its meta (model.json), with the preprocessing published with it."""
        import json

        import torch

        self.require(job_id, where)
        weights, meta = self.read_file(job_id, WEIGHTS), self.read_file(job_id, META)
        if weights is None or meta is None:
            raise ConfigError(
                f"{where}: the part of job {job_id!r} has no {WEIGHTS} (not a torch model)"
            )
        state: dict[str, Any] = torch.load(io.BytesIO(weights), weights_only=True)
        loaded: dict[str, Any] = json.loads(meta)
        return state, loaded


def published_files(model_dir: Path) -> dict[str, bytes]:
    """The part a job published in its workspace's `model/` folder, as files to register."""
    return {
        name: (model_dir / name).read_bytes() for name in PART_FILES if (model_dir / name).exists()
    }
