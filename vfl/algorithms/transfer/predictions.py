"""The target's predictions for its rows outside the intersection, written where it is.

Only the target runs this: its rows, Net_B, the scaler fitted on its overlap rows and the
source's Φ. The file is 0600 in the workspace's `outputs/` folder (0700); its path is the
only thing reported. Columns: the target's ID column, then the probability of class 1
(`score`, binary) or of each class (`score_<class>`, multiclass), then `class`, the most
probable class in the source's label values (binary: score ≥ 0.5).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray
from torch import nn

from vfl.algorithms.split.preprocess import Standardizer
from vfl.algorithms.transfer.model import scores
from vfl.dataset import PartyDataset
from vfl.runtime.workspace import Workspace

FILE_NAME = "predictions"


@dataclass(frozen=True)
class Scored:
    ids: tuple[str, ...]
    probabilities: NDArray[np.float64]
    """n×1 (binary: P(class 1)) or n×K (multiclass)."""
    classes: NDArray[np.float64]
    """The predicted class of each row, in the source's label values."""
    class_values: NDArray[np.float64]


def score_outside(
    data: PartyDataset,
    aligned: tuple[str, ...],
    net: nn.Module,
    scaler: Standardizer,
    summary: NDArray[np.float32],
    class_values: NDArray[np.float64],
    task: str,
) -> Scored:
    """Scores of every row of `data` whose ID is not in `aligned`, in the file's order."""
    shared = set(aligned)
    outside = np.array([i for i, id_ in enumerate(data.ids) if id_ not in shared], dtype=np.int64)
    with torch.no_grad():
        u_b = net(scaler.apply(data.features[outside]))
        logits = scores(u_b, torch.from_numpy(summary)).double()
    if task == "binary":
        p = torch.sigmoid(logits).numpy().reshape(-1, 1)
        predicted = class_values[(p[:, 0] >= 0.5).astype(np.int64)]
    else:
        p = torch.softmax(logits, dim=1).numpy()
        predicted = class_values[p.argmax(axis=1)] if len(p) else class_values[:0]
    return Scored(tuple(data.ids[i] for i in outside), p, predicted, class_values)


def _label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def frame(scored: Scored, id_column: str) -> pd.DataFrame:
    columns: dict[str, object] = {id_column: list(scored.ids)}
    if scored.probabilities.shape[1] == 1:
        columns["score"] = scored.probabilities[:, 0]
    else:
        for k, value in enumerate(scored.class_values):
            columns[f"score_{_label(value)}"] = scored.probabilities[:, k]
    integral = bool(np.all(np.mod(scored.class_values, 1) == 0))
    columns["class"] = scored.classes.astype(np.int64) if integral else scored.classes
    return pd.DataFrame(columns)


def write_predictions(workspace: Workspace, scored: Scored, id_column: str, fmt: str) -> Path:
    """Write the predictions under the workspace's `outputs/` (0700 folder, 0600 file)."""
    table = frame(scored, id_column)
    buffer = io.BytesIO()
    if fmt == "parquet":
        table.to_parquet(buffer, index=False)
    else:
        table.to_csv(buffer, index=False)
    return workspace.save_output(f"{FILE_NAME}.{fmt}", buffer.getvalue())
