"""Where a training loop keeps its last finished step: one file per phase and role.

Two formats, the ones the programs have always written, so a checkpoint made before the
loop was shared still resumes: a torch file (`checkpoints/NAME.pt`, loaded with
`weights_only=True`) for programs that hold torch state, and a numpy `.npz` (no pickle)
for the numpy-only programs the coordinator hosts, which must not import torch.

Each file holds the loop's values, the index of the finished step under the counter's
name (`epoch` or `round`, as before) and the number of steps the job asked for
(`steps`; absent in files written before it was recorded). Writes go through the
workspace's temporary file and rename, so a reader finds the previous whole checkpoint or
the new whole one, never a half-written file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from vfl.errors import ConfigError
from vfl.runtime.workspace import Workspace

STEPS = "steps"
"""The key of the step count the checkpoint was written for."""


@dataclass(frozen=True)
class Saved:
    """A checkpoint read back: the last finished step and the loop state's own values."""

    step: int
    values: dict[str, Any]


class CheckpointFile(ABC):
    """One loop's checkpoint in a workspace; subclasses say how values are stored."""

    suffix: str

    def __init__(self, workspace: Workspace, name: str, counter: str) -> None:
        self.workspace = workspace
        self.name = name
        """File name without suffix, e.g. "train" or "aggregator"."""
        self.counter = counter
        """What a step is called in the file and in errors: "epoch" or "round"."""

    def read(self, steps: int) -> Saved | None:
        """The last finished step, or None if none finished; ConfigError if the checkpoint
        was written for another number of steps (resuming would mix two runs)."""
        stored = self._load()
        if stored is None:
            return None
        step = int(stored.pop(self.counter))
        recorded = stored.pop(STEPS, None)
        written_for = None if recorded is None else int(recorded)
        if (written_for is not None and written_for != steps) or step >= steps:
            total = f"of {written_for} " if written_for is not None else ""
            raise ConfigError(
                f"{self.workspace.root / 'checkpoints' / (self.name + self.suffix)}: saved "
                f"after {self.counter} {step + 1} {total}but this job has {steps} "
                f"{self.counter}s; the number of {self.counter}s cannot change on resume: "
                "run the job again under a new job id"
            )
        return Saved(step, stored)

    def write(self, step: int, steps: int, values: dict[str, Any]) -> None:
        """Replace the checkpoint with the state after `step` (of `steps`), atomically."""
        self._save({**values, self.counter: self._number(step), STEPS: self._number(steps)})

    @abstractmethod
    def _load(self) -> dict[str, Any] | None: ...

    @abstractmethod
    def _save(self, values: dict[str, Any]) -> None: ...

    @abstractmethod
    def _number(self, n: int) -> object: ...


class TorchCheckpoint(CheckpointFile):
    """`checkpoints/NAME.pt`: tensors, state dicts, numbers and lists (weights_only)."""

    suffix = ".pt"

    def _load(self) -> dict[str, Any] | None:
        return self.workspace.load_checkpoint(self.name)

    def _save(self, values: dict[str, Any]) -> None:
        self.workspace.save_checkpoint(self.name, values)

    def _number(self, n: int) -> object:
        return n


class ArrayCheckpoint(CheckpointFile):
    """`checkpoints/NAME.npz`: plain numeric arrays only, for numpy-only programs."""

    suffix = ".npz"

    def _load(self) -> dict[str, Any] | None:
        return self.workspace.load_arrays(self.name)

    def _save(self, values: dict[str, Any]) -> None:
        self.workspace.save_arrays(self.name, values)

    def _number(self, n: int) -> object:
        return np.array(n)
