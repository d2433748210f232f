"""Builders for small synthetic vertical data sets and job specs used across tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vfl.config.job_spec import VerticalJobSpec, vertical
from vfl.config.loading import parse_job


def synthetic_vertical(
    folder: Path,
    widths: dict[str, int],
    rows: int = 240,
    task: str = "binary",
    seed: int = 0,
    drop: float = 0.0,
) -> dict[str, Path]:
    """CSV per party with `widths[party]` feature columns; the first party gets the label.

    Labels follow a fixed linear rule over all parties' columns, so a model can learn them
    only by combining parties. `drop` removes that share of rows from each party.
    """
    rng = np.random.default_rng(seed)
    total = sum(widths.values())
    x = rng.normal(size=(rows, total)).astype(np.float32)
    score = x @ rng.normal(size=total)
    if task == "binary":
        y = (score > 0).astype(int)
    elif task == "multiclass":
        y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
    else:
        y = score * 3 + 10
    ids = [f"id-{i:05d}" for i in range(rows)]
    paths: dict[str, Path] = {}
    start = 0
    for k, (party, width) in enumerate(widths.items()):
        frame = pd.DataFrame(
            x[:, start : start + width], columns=[f"{party}_f{j}" for j in range(width)]
        )
        start += width
        frame.insert(0, "id", ids)
        if k == 0:
            frame["y"] = y
        keep = rng.random(rows) >= drop
        frame = frame[keep].sample(frac=1.0, random_state=seed + k)
        path = folder / f"{party}.csv"
        frame.to_csv(path, index=False)
        paths[party] = path
    return paths


def job_dict(paths: dict[str, Path], **sections: dict[str, Any]) -> dict[str, Any]:
    """A job spec dict over `paths`; the first party is the label holder."""
    parties = []
    for k, (party, path) in enumerate(paths.items()):
        entry: dict[str, Any] = {
            "name": party,
            "role": "label_holder" if k == 0 else "feature_holder",
            "data": str(path),
            "id_column": "id",
        }
        if k == 0:
            entry["label_column"] = "y"
        parties.append(entry)
    spec: dict[str, Any] = {
        "job": {"name": "test-job", "seed": 7},
        "parties": parties,
        "align": {"protocol": "join"},
        "model": {"task": "binary", "bottom_hidden": [6], "cut_width": 4, "top_hidden": [5]},
        "train": {
            "protection": "none",
            "epochs": 2,
            "batch_size": 32,
            "validation_fraction": 0.2,
        },
    }
    for name, values in sections.items():
        spec[name] = {**spec.get(name, {}), **values}
    return spec


def job_spec(spec: dict[str, Any], base_dir: Path | None = None) -> VerticalJobSpec:
    parsed = vertical(parse_job(copy.deepcopy(spec), source="test.toml"))
    return parsed.with_base_dir(base_dir or Path.cwd())


def write_toml(path: Path, spec: dict[str, Any]) -> Path:
    """A minimal TOML writer for job dicts (tables, arrays of tables, scalars, lists)."""
    lines: list[str] = []

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    for section, body in spec.items():
        if isinstance(body, list):
            for item in body:
                lines.append(f"[[{section}]]")
                lines.extend(f"{k} = {value(v)}" for k, v in item.items())
        else:
            lines.append(f"[{section}]")
            lines.extend(f"{k} = {value(v)}" for k, v in body.items())
    path.write_text("\n".join(lines) + "\n")
    return path
