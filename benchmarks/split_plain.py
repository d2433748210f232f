"""Seconds per epoch: plain split learning (simulator) vs the same model centralized.

Synthetic 30,000 rows × 23 features (label holder 13, feature holder 10, the shape of the
public default-credit data), B = 256, split_nn 32-16 bottoms, 16 top. Both runs do the
same epochs on the same batches in the same process; the ratio is what matters, since the
machine is shared and absolute times drift. Goal: ratio <= 1.3.

    .venv/bin/python -m benchmarks.split_plain [--epochs 5] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from benchmarks.common import median_seconds, write_result
from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.algorithms.split.initial_weights import init_generator
from vfl.algorithms.split.label_model import LabelHolderModel
from vfl.algorithms.split.models import build_bottom, make_optimizer
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.api import simulate
from vfl.config.job_spec import VerticalJobSpec
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.workspace import Workspace

ROWS, BATCH = 30_000, 256
WIDTHS = {"bank": 13, "bureau": 10}


def centralized_epochs(spec: VerticalJobSpec, x: torch.Tensor, y_raw: np.ndarray) -> None:
    """The same architecture as one module on joined columns, a plain training loop."""
    schedule = BatchSchedule(len(x), spec.train.batch_size, 0.0, spec.job.seed)
    codec = LabelCodec.fit("binary", y_raw, schedule.train_rows, "bench", False)
    y = codec.encode(y_raw)
    with tempfile.TemporaryDirectory() as tmp:  # the architecture only: any secret will do
        secret = PartySecret.for_spec(Workspace(Path(tmp)), "bench", "bank", spec)
        label = LabelHolderModel(spec, secret, 13, {"bureau": spec.model.cut_width}, 1)
        bureau, _ = build_bottom(spec, 10, init_generator(secret, "bureau"))
    model = torch.nn.ModuleDict({"label": label.bottom, "bureau": bureau, "top": label.top})
    w = torch.nn.Linear(2 * spec.model.cut_width, label.u)
    params = [*model.parameters(), *w.parameters()]
    optimizer = make_optimizer(spec, params)  # the same optimizer settings as the parties
    for epoch in range(spec.train.epochs):
        for rows in schedule.train_batches(epoch):
            xb = x[rows]
            optimizer.zero_grad()
            a = torch.cat([model["label"](xb[:, :13]), model["bureau"](xb[:, 13:])], 1)
            loss = codec.loss(model["top"](w(a)), y[rows])
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads, both runs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = synthetic_vertical(folder, WIDTHS, rows=ROWS, seed=1)
        spec = job_spec(
            job_dict(
                paths,
                model={"bottom_hidden": [32], "cut_width": 16, "top_hidden": [16]},
                train={
                    "epochs": args.epochs,
                    "batch_size": BATCH,
                    "validation_fraction": 0.0,
                    "standardize": False,
                },
            )
        )
        frames = [pd.read_csv(p, dtype={"id": str}).set_index("id") for p in paths.values()]
        joined = frames[0].join(frames[1], how="inner").sort_index()
        feature_cols = [c for c in joined.columns if c != "y"]
        x = torch.tensor(joined[feature_cols].to_numpy(np.float32))
        y_raw = joined["y"].to_numpy(np.float64)

        train_times: list[float] = []

        def split_run() -> None:
            result = simulate(spec, workdir=Path(tempfile.mkdtemp(dir=tmp)))
            assert result.status == "succeeded", result.error
            train_times.append(result.timings["train_s"])

        central_all: list[float] = []
        split_run()  # warm-up: first-use imports and allocations
        train_times.clear()
        for _ in range(args.repeats):  # interleaved, so load drift hits both alike
            central_all.append(median_seconds(lambda: centralized_epochs(spec, x, y_raw), 1)[0])
            split_run()
        central = statistics.median(central_all)
        split = statistics.median(train_times)
    per_epoch_split = split / args.epochs
    per_epoch_central = central / args.epochs
    ratio = per_epoch_split / per_epoch_central
    path = write_result(
        "split_plain",
        {
            "rows": ROWS,
            "features": WIDTHS,
            "batch_size": BATCH,
            "epochs": args.epochs,
            "torch_threads": torch.get_num_threads(),
            "split_s_per_epoch": per_epoch_split,
            "centralized_s_per_epoch": per_epoch_central,
            "ratio": ratio,
            "goal_ratio": 1.3,
            "raw": {"split_train_s": train_times, "centralized_s": central_all},
        },
    )
    print(
        f"split {per_epoch_split:.3f} s/epoch, centralized {per_epoch_central:.3f} s/epoch, "
        f"ratio {ratio:.2f} (goal <= 1.3) -> {path}"
    )


if __name__ == "__main__":
    main()
