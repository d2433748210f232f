"""Horizontal test data: the same columns at every party, different rows, optionally
skewed labels per party, and a spec over them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def synthetic_horizontal(
    folder: Path, parties: int = 3, rows: int = 160, width: int = 5, seed: int = 0
) -> dict[str, Path]:
    """CSV per party; labels follow one linear rule, each party's features are shifted a
    little (non-IID), so averaging matters."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rule = rng.normal(0, 1, width)
    out = {}
    for i in range(parties):
        x = rng.normal(0.4 * i, 1.0, (rows, width))
        y = (x @ rule + rng.normal(0, 0.5, rows) > 0.4 * i).astype(int)
        frame = pd.DataFrame(x, columns=[f"f{j}" for j in range(width)])
        frame["y"] = y
        name = f"site-{chr(ord('a') + i)}" if parties <= 26 else f"site-{i:03d}"
        frame.to_csv(folder / f"{name}.csv", index=False)
        out[name] = folder / f"{name}.csv"
    return out


def horizontal_dict(paths: dict[str, Path], **sections: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "job": {"name": "horizontal-test", "mode": "horizontal", "seed": 5},
        "parties": [
            {"name": n, "role": "sample_holder", "data": str(p), "label_column": "y"}
            for n, p in paths.items()
        ],
        "model": {"kind": "mlp", "hidden": [6]},
        # Deadlines far above a round's cost even on a loaded 2-core box (a 30 s round
        # deadline failed secure aggregation under load); tests of deadlines set their own.
        "train": {"rounds": 3, "local_epochs": 1, "batch_size": 32, "learning_rate": 0.1,
                  "timeout_s": 600, "round_timeout_s": 300},
    }  # fmt: skip
    for name, values in sections.items():
        spec.setdefault(name, {}).update(values)
    return spec
