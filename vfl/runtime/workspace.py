"""A party's local state for one job: aligned IDs, epoch checkpoints, its model part.

Everything here stays on the party's machine. Phases hand results to each other through
it, so a restarted party resumes from the last thing it finished instead of redoing it.
Folders are 0700 and files 0600, set explicitly whatever the umask: aligned IDs, shares in
checkpoints, model weights and keys are for this party's own account only.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from vfl.errors import DataValidationError

if TYPE_CHECKING:
    import torch  # noqa: F401 (imported where used: numpy-only programs never load it)

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` made (with its parents) and set to 0700, even if it existed with another mode."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.chmod(DIR_MODE)
    return path


class Workspace:
    """One party's folder for one job (0700); every file in it is written 0600."""

    def __init__(self, root: Path) -> None:
        self.root = private_dir(root)

    # -- alignment -------------------------------------------------------------------
    @property
    def _aligned_path(self) -> Path:
        return self.root / "aligned_ids.txt"

    def save_alignment(self, ids: list[str] | tuple[str, ...]) -> None:
        """One ID a line. IDs never hold a line break: the data loader refuses them."""
        _atomic_write(self._aligned_path, ("\n".join(ids) + "\n" if ids else "").encode())

    def load_alignment(self) -> tuple[str, ...]:
        if not self._aligned_path.exists():
            raise DataValidationError(
                f"{self.root}: no aligned IDs yet; the align phase must finish first"
            )
        # Bytes, split on "\n" only: read_text() would translate "\r", and splitlines()
        # also breaks on "\x1e", "\x85", "\u2028" and others that may sit inside an ID.
        text = self._aligned_path.read_bytes().decode()
        return tuple(text.removesuffix("\n").split("\n")) if text else ()

    def has_alignment(self) -> bool:
        return self._aligned_path.exists()

    # -- checkpoints and models ------------------------------------------------------
    def save_checkpoint(self, name: str, state: dict[str, Any]) -> None:
        import torch

        path = private_dir(self.root / "checkpoints") / f"{name}.pt"
        _atomic_write(path, lambda fh: torch.save(state, fh))

    def load_checkpoint(self, name: str) -> dict[str, Any] | None:
        import torch

        path = self.root / "checkpoints" / f"{name}.pt"
        if not path.exists():
            return None
        state: dict[str, Any] = torch.load(path, weights_only=True)
        return state

    # -- numpy state: for numpy-only programs (the coordinator's aggregators) -----------
    def save_arrays(self, name: str, arrays: dict[str, npt.NDArray[Any]]) -> None:
        """Arrays as one .npz checkpoint (no pickle: plain numeric arrays only)."""
        path = private_dir(self.root / "checkpoints") / f"{name}.npz"
        _atomic_write(path, lambda fh: np.savez(fh, allow_pickle=False, **arrays))

    def load_arrays(self, name: str) -> dict[str, npt.NDArray[Any]] | None:
        path = self.root / "checkpoints" / f"{name}.npz"
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}

    def save_model_arrays(self, arrays: dict[str, npt.NDArray[Any]], meta: dict[str, Any]) -> Path:
        """A numpy-only program's model: weights.npz and model.json."""
        folder = private_dir(self.root / "model")
        _atomic_write(folder / "weights.npz", lambda fh: np.savez(fh, allow_pickle=False, **arrays))
        _atomic_write(folder / "model.json", json.dumps(meta, indent=2).encode())
        return folder

    def save_model(self, state: dict[str, Any], meta: dict[str, Any]) -> Path:
        import torch

        folder = private_dir(self.root / "model")
        _atomic_write(folder / "weights.pt", lambda fh: torch.save(state, fh))
        _atomic_write(folder / "model.json", json.dumps(meta, indent=2).encode())
        return folder

    def load_model(self) -> tuple[dict[str, Any], dict[str, Any]]:
        import torch

        folder = self.root / "model"
        state: dict[str, Any] = torch.load(folder / "weights.pt", weights_only=True)
        meta: dict[str, Any] = json.loads((folder / "model.json").read_text())
        return state, meta

    # -- outputs: files a job leaves at this party for its owner (transfer predictions) ---
    def save_output(self, name: str, data: bytes) -> Path:
        """Write `outputs/name` (0600 in a 0700 folder) atomically; its path."""
        path = private_dir(self.root / "outputs") / name
        _atomic_write(path, data)
        return path

    # -- private files: secrets that must survive a restart and never leave the machine ---
    def private(self, name: str, create: Callable[[], bytes]) -> bytes:
        """The content of private file `name`, made by `create()` the first time.

        Written once, 0600 in a 0700 folder, fsync'd before it is returned: a program
        that sends something derived from it must find the same bytes after a crash. If
        two callers race, the first file wins and both get its content.
        """
        folder = private_dir(self.root / "private")
        path = folder / name
        if not path.exists():
            data = create()
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}")
            try:
                os.fchmod(fd, FILE_MODE)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.link(tmp, path)  # never replaces an existing file, unlike rename
                _fsync_dir(folder)
            except FileExistsError:
                pass
            finally:
                Path(tmp).unlink()
        return path.read_bytes()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes | Callable[[IO[bytes]], object]) -> None:
    """Write a temporary file 0600 beside `path`, then rename it over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                data(fh)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
