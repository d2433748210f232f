"""Local preprocessing: each party scales its own columns; L encodes its own labels.

Statistics are fitted on the training rows only, at the party that owns the column, and
saved with that party's model part so predictions use the same scaling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from vfl.config.job_spec import Task
from vfl.errors import DataValidationError


@dataclass(frozen=True)
class Standardizer:
    mean: NDArray[np.float32]
    scale: NDArray[np.float32]

    @classmethod
    def fit(cls, x: NDArray[np.float32], enabled: bool) -> Standardizer:
        if not enabled or x.shape[0] == 0:
            width = x.shape[1]
            return cls(np.zeros(width, np.float32), np.ones(width, np.float32))
        std = x.std(axis=0)
        return cls(x.mean(axis=0).astype(np.float32), np.where(std > 0, std, 1).astype(np.float32))

    def apply(self, x: NDArray[np.float32]) -> torch.Tensor:
        return torch.from_numpy(((x - self.mean) / self.scale).astype(np.float32))

    def state(self) -> dict[str, torch.Tensor]:
        return {"mean": torch.from_numpy(self.mean), "scale": torch.from_numpy(self.scale)}

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor]) -> Standardizer:
        return cls(state["mean"].numpy(), state["scale"].numpy())


@dataclass(frozen=True)
class LabelCodec:
    """Labels as the loss wants them; model outputs back in the label's own units."""

    task: Task
    classes: tuple[float, ...]
    target_mean: float
    target_scale: float

    @classmethod
    def fit(
        cls,
        task: Task,
        labels: NDArray[np.float64],
        train_rows: NDArray[np.int64],
        source: str,
        standardize: bool,
    ) -> LabelCodec:
        classes = tuple(float(c) for c in np.unique(labels)) if task != "regression" else ()
        if task == "multiclass" and len(classes) < 2:
            raise DataValidationError(f"{source}: multiclass labels need >= 2 classes")
        mean, scale = 0.0, 1.0
        if task == "regression" and standardize and len(train_rows):
            mean = float(labels[train_rows].mean())
            scale = float(labels[train_rows].std()) or 1.0
        return cls(task, classes, mean, scale)

    @property
    def outputs(self) -> int:
        return len(self.classes) if self.task == "multiclass" else 1

    def encode(self, labels: NDArray[np.float64]) -> torch.Tensor:
        if self.task == "multiclass":
            index = np.searchsorted(np.asarray(self.classes), labels)
            return torch.from_numpy(index.astype(np.int64))
        if self.task == "binary":
            return torch.from_numpy(labels.astype(np.float32)).reshape(-1, 1)
        scaled = (labels - self.target_mean) / self.target_scale
        return torch.from_numpy(scaled.astype(np.float32)).reshape(-1, 1)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.task == "binary":
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        if self.task == "multiclass":
            return torch.nn.functional.cross_entropy(logits, target)
        return torch.nn.functional.mse_loss(logits, target)

    def predictions(self, logits: torch.Tensor) -> NDArray[np.float64]:
        """Probabilities (binary: P(1); multiclass: one column per class) or values."""
        with torch.no_grad():
            if self.task == "binary":
                return torch.sigmoid(logits).reshape(-1).double().numpy()
            if self.task == "multiclass":
                return torch.softmax(logits.double(), dim=1).numpy()
            out = logits.reshape(-1).double().numpy()
            return out * self.target_scale + self.target_mean

    def class_index(self, labels: NDArray[np.float64]) -> NDArray[np.int64]:
        return np.searchsorted(np.asarray(self.classes), labels).astype(np.int64)

    def meta(self) -> dict[str, object]:
        return {
            "task": self.task,
            "classes": list(self.classes),
            "target_mean": self.target_mean,
            "target_scale": self.target_scale,
        }
