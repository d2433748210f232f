"""Builders for small synthetic transfer data sets and specs (source with labels, target
without, a partial overlap)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vfl.config.job_spec import TransferJobSpec, transfer
from vfl.config.loading import parse_job


def synthetic_transfer(
    folder: Path,
    source_width: int = 4,
    target_width: int = 3,
    rows: int = 300,
    shared: float = 0.4,
    task: str = "binary",
    seed: int = 0,
) -> dict[str, Path]:
    """source.csv (id, s_f*, y) and target.csv (id, t_f*). Rows [0, a) are the source's
    only, [a, b) shared, [b, rows) the target's only; the label follows one linear rule
    over both parties' columns, so either side's columns carry part of it."""
    rng = np.random.default_rng(seed)
    width = source_width + target_width
    x = rng.normal(size=(rows, width)).astype(np.float32)
    score = x @ rng.normal(size=width)
    if task == "multiclass":
        y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
    else:
        y = (score > 0).astype(int)
    ids = np.array([f"id-{i:05d}" for i in rng.permutation(rows)])
    n_shared = round(rows * shared)
    a = (rows - n_shared) // 2
    b = a + n_shared
    source = pd.DataFrame(x[:b, :source_width], columns=[f"s_f{j}" for j in range(source_width)])
    source.insert(0, "id", ids[:b])
    source["y"] = y[:b]
    target = pd.DataFrame(x[a:, source_width:], columns=[f"t_f{j}" for j in range(target_width)])
    target.insert(0, "id", ids[a:])
    paths = {"source": folder / "source.csv", "target": folder / "target.csv"}
    source.sample(frac=1.0, random_state=seed).to_csv(paths["source"], index=False)
    target.sample(frac=1.0, random_state=seed + 1).to_csv(paths["target"], index=False)
    return paths


def transfer_dict(paths: dict[str, Path], **sections: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "job": {"name": "transfer-test", "mode": "transfer", "seed": 7},
        "parties": [
            {
                "name": "source",
                "role": "source",
                "data": str(paths["source"]),
                "id_column": "id",
                "label_column": "y",
            },
            {"name": "target", "role": "target", "data": str(paths["target"]), "id_column": "id"},
        ],
        "align": {"protocol": "join"},
        "model": {"kind": "ftl", "task": "binary", "hidden": [6], "representation_width": 4},
        "train": {
            "protection": "none",
            "epochs": 2,
            "batch_size": 16,
            "validation_fraction": 0.2,
            "alignment_weight": 0.5,
        },
    }
    for name, values in sections.items():
        spec[name] = {**spec.get(name, {}), **values}
    return spec


def transfer_spec(spec: dict[str, Any], base_dir: Path | None = None) -> TransferJobSpec:
    parsed = transfer(parse_job(copy.deepcopy(spec), source="test.toml"))
    return parsed.with_base_dir(base_dir or Path.cwd())
