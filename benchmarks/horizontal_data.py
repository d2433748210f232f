"""The data of benchmarks/horizontal.py, prepared once so both frameworks train on the same
rows: default credit (23 features joined from FATE's two vertical halves) or a synthetic
twin of it, a global test set neither framework trains on, and ten parties split IID or
with Dirichlet(α) label skew.

The vfl side gets each party's CSV and a job spec. The Flower side gets arrays read back
through vfl's own loader and held-out choice (`BatchSchedule` from the public job seed), so
its clients train on exactly the rows vfl's parties train on, scaled with the statistics
vfl's secure sum computes, and start from vfl's initial parameters. Test AUC is scored by
one function (`global_auc`) for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from parties.data.dirichlet_split import dirichlet_split
from parties.data.loader import load_dataset
from tests.factories import write_toml
from vfl.algorithms.horizontal.local_training import build_model, load_flat, predictions
from vfl.algorithms.horizontal.sample_holder import hash_seed
from vfl.algorithms.horizontal.weights import initial_params
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.config.job_spec import horizontal
from vfl.config.loading import load_job
from vfl.metrics import compute_metrics

LABEL = "y"
SEED = 7
GUEST, HOST = "default_credit_hetero_guest.csv", "default_credit_hetero_host.csv"


@dataclass(frozen=True)
class Settings:
    """One configuration of the benchmark (the issue's: 10 parties, 20 rounds, 23-64-32-1)."""

    parties: int = 10
    rounds: int = 20
    hidden: tuple[int, ...] = (64, 32)
    local_epochs: int = 1
    batch_size: int = 64
    learning_rate: float = 0.05
    validation_fraction: float = 0.05
    """vfl's per-party held-out share; the benchmark's own test set is separate."""
    test_fraction: float = 0.2
    alpha: float = 0.5


def credit(fate: Path | None, rows: int) -> tuple[pd.DataFrame, str]:
    """`rows` rows of default credit (features g0..g12, h0..h9, label y), or a synthetic twin
    when the FATE files are absent."""
    if fate is not None and (fate / GUEST).exists() and (fate / HOST).exists():
        guest = pd.read_csv(fate / GUEST).rename(columns=lambda c: c.replace("x", "g"))
        host = pd.read_csv(fate / HOST).rename(columns=lambda c: c.replace("x", "h"))
        frame = guest.merge(host, on="id").drop(columns="id")
        if rows < len(frame):
            frame = frame.sample(n=rows, random_state=SEED)
        features = [c for c in frame.columns if c != LABEL]
        return frame[[*features, LABEL]].reset_index(drop=True), "default credit (FATE)"
    return twin(rows), "synthetic twin of default credit"


def twin(rows: int, seed: int = SEED) -> pd.DataFrame:
    """23 correlated standardized features, label from a logistic rule with ~22% positives
    (default credit's rate) and a nonlinear term, so the MLP has something to find."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(0, 1, (23, 23)) / np.sqrt(23)
    x = rng.normal(0, 1, (rows, 23)) @ (np.eye(23) + 0.5 * mixing)
    rule = rng.normal(0, 1, 23) * (rng.random(23) < 0.5)
    logit = x @ rule * 0.6 + 0.8 * np.abs(x[:, 0]) - 2.0
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(x, columns=[f"g{i}" for i in range(13)] + [f"h{i}" for i in range(10)])
    frame[LABEL] = y
    return frame


def holdout(frame: pd.DataFrame, fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows the parties share, global test rows), drawn with a fixed seed."""
    order = np.random.default_rng(SEED).permutation(len(frame))
    cut = round(len(frame) * fraction)
    test, rest = order[:cut], order[cut:]
    return frame.iloc[rest].reset_index(drop=True), frame.iloc[test].reset_index(drop=True)


def split(frame: pd.DataFrame, kind: str, settings: Settings) -> list[pd.DataFrame]:
    """`iid`: a shuffled even split; `dirichlet`: label skew Dirichlet(settings.alpha)."""
    if kind == "dirichlet":
        return dirichlet_split(frame, LABEL, settings.parties, settings.alpha, SEED)
    order = np.random.default_rng(SEED + 1).permutation(len(frame))
    return [
        frame.iloc[part].reset_index(drop=True) for part in np.array_split(order, settings.parties)
    ]


def party_name(i: int) -> str:
    return f"branch-{i:02d}"


def write_job(
    folder: Path, parties: list[pd.DataFrame], settings: Settings, secure: bool, name: str
) -> Path:
    """Each party's CSV and a horizontal job spec over them; returns the spec's path."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, frame in enumerate(parties):
        path = folder / f"{party_name(i)}.csv"
        if not path.exists():
            frame.to_csv(path, index=False)
        entries.append(
            {
                "name": party_name(i),
                "role": "sample_holder",
                "data": path.name,
                "label_column": LABEL,
            }
        )
    spec: dict[str, Any] = {
        "job": {"name": name, "mode": "horizontal", "seed": SEED},
        "parties": entries,
        "model": {"kind": "mlp", "task": "binary", "hidden": list(settings.hidden)},
        "train": {
            "rounds": settings.rounds,
            "local_epochs": settings.local_epochs,
            "batch_size": settings.batch_size,
            "optimizer": "sgd",
            "learning_rate": settings.learning_rate,
            "strategy": "fedavg",
            "secure_aggregation": secure,
            "validation_fraction": settings.validation_fraction,
        },
    }
    return write_toml(folder / f"job-{'secure' if secure else 'plain'}.toml", spec)


def flower_arrays(spec_path: Path) -> dict[str, NDArray[Any]]:
    """What the Flower side trains and starts from, as vfl would have it: client i's training
    rows (`x{i}`, `y{i}`) scaled by the pooled training rows' mean and scale (what vfl's
    secure sum yields), and vfl's initial parameters."""
    spec = horizontal(load_job(spec_path))
    rows = []
    for party in sorted(spec.parties, key=lambda p: p.name):
        data = load_dataset(spec, party)
        schedule = BatchSchedule(
            data.rows,
            spec.train.batch_size,
            spec.train.validation_fraction,
            hash_seed(spec.job.seed, party.name),
        )
        assert data.labels is not None
        rows.append((data.features[schedule.train_rows], data.labels[schedule.train_rows]))
    pooled = np.concatenate([x for x, _ in rows]).astype(np.float64)
    mean = pooled.mean(axis=0)
    std = np.sqrt(np.maximum((pooled**2).mean(axis=0) - mean**2, 0.0))
    scale = np.where(std > 0, std, 1.0)
    out: dict[str, NDArray[Any]] = {
        "init": initial_params(spec, pooled.shape[1]),
        "mean": mean,
        "scale": scale,
    }
    for i, (x, y) in enumerate(rows):
        out[f"x{i}"] = ((x - mean) / scale).astype(np.float32)
        out[f"y{i}"] = y.astype(np.float32)
    return out


def global_auc(
    params: NDArray[np.float64],
    mean: NDArray[np.float64],
    scale: NDArray[np.float64],
    test: pd.DataFrame,
    hidden: tuple[int, ...],
) -> float:
    """The global test AUC of a flat parameter vector (vfl's layout, which is torch's
    `parameters()` order for the same MLP), on the raw test rows scaled by (mean, scale)."""
    x = test.drop(columns=LABEL).to_numpy(np.float32).astype(np.float64)
    model = build_model(x.shape[1], list(hidden), 1, 0)
    load_flat(model, params.astype(np.float64))
    codec = LabelCodec("binary", (0.0, 1.0), 0.0, 1.0)
    scaled = torch.from_numpy(((x - mean) / scale).astype(np.float32))
    pred = predictions(model, codec, scaled)
    return compute_metrics("binary", test[LABEL].to_numpy(np.float64), pred)["auc"]
