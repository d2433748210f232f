"""Seconds per epoch: plain split learning in the simulator, with the parties as threads
of one process and as a process each, vs the same model trained centrally.

The public default-credit data as FATE splits it (/work/shared/data/fate, 30,000 rows:
the guest's label and 13 features, the host's 10), B = 256, split_nn 23→32→16 bottoms,
16 top. The three runs do the same epochs on the same batches, interleaved in one run, so
load drift on the shared machine hits them alike; the ratios are what matter. Goal: split
<= 1.3 × centralized. The process backend's time is the training phase's wall time, as
for threads; what spawning the two interpreters costs once per job is reported beside it.

    .venv/bin/python -m benchmarks.split_plain [--epochs 5] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from benchmarks.common import median_seconds, write_result
from tests.factories import job_dict, job_spec
from vfl.algorithms.split.initial_weights import init_generator
from vfl.algorithms.split.label_model import LabelHolderModel
from vfl.algorithms.split.models import build_bottom, make_optimizer
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.api import Backend, simulate
from vfl.config.job_spec import VerticalJobSpec
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.workspace import Workspace

BATCH = 256
DATA = Path("/work/shared/data/fate")
PATHS = {
    "bank": DATA / "default_credit_hetero_guest.csv",  # the label and 13 features
    "bureau": DATA / "default_credit_hetero_host.csv",  # 10 features
}
WIDTHS = {"bank": 13, "bureau": 10}
SPLITS = (Backend.THREADS, Backend.PROCESSES)


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
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads: centralized, the threads backend, and each party process",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ["VFL_TORCH_THREADS"] = str(args.threads)  # the party processes read it
    spec = job_spec(
        job_dict(
            {name: path.resolve() for name, path in PATHS.items()},
            model={"bottom_hidden": [32], "cut_width": 16, "top_hidden": [16]},
            train={
                "epochs": args.epochs,
                "batch_size": BATCH,
                "validation_fraction": 0.0,
                "standardize": False,  # FATE's columns are standardized already
            },
        )
    )
    # the centralized model sees the same rows in the same order: the aligned, sorted IDs
    frames = [
        pd.read_csv(path, dtype={"id": str}).set_index("id").add_prefix(f"{name}_")
        for name, path in PATHS.items()
    ]
    joined = frames[0].join(frames[1], how="inner").sort_index()
    features = [c for c in joined.columns if c != "bank_y"]
    x = torch.tensor(joined[features].to_numpy(np.float32))
    y_raw = joined["bank_y"].to_numpy(np.float64)
    assert x.shape[1] == sum(WIDTHS.values())

    train_s: dict[Backend, list[float]] = {b: [] for b in SPLITS}
    job_s: dict[Backend, list[float]] = {b: [] for b in SPLITS}
    central_all: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:

        def split_run(backend: Backend) -> None:
            start = time.perf_counter()
            work = Path(tempfile.mkdtemp(dir=tmp))
            result = simulate(spec, workdir=work, home=work, backend=backend)
            job_s[backend].append(time.perf_counter() - start)
            assert result.status == "succeeded", result.error
            train_s[backend].append(result.timings["train_s"])

        for backend in SPLITS:  # warm-up: first-use imports and allocations
            split_run(backend)
        centralized_epochs(spec, x, y_raw)
        for runs in (*train_s.values(), *job_s.values()):
            runs.clear()
        for _ in range(args.repeats):  # interleaved, so load drift hits all three alike
            central_all.append(median_seconds(lambda: centralized_epochs(spec, x, y_raw), 1)[0])
            for backend in SPLITS:
                split_run(backend)
    central = statistics.median(central_all) / args.epochs
    per_epoch = {b: statistics.median(train_s[b]) / args.epochs for b in SPLITS}
    overhead = {
        b: statistics.median(j - t for j, t in zip(job_s[b], train_s[b], strict=True))
        for b in SPLITS
    }
    path = write_result(
        "split_plain",
        {
            "data": {name: str(p) for name, p in PATHS.items()},
            "rows": len(x),
            "features": WIDTHS,
            "batch_size": BATCH,
            "epochs": args.epochs,
            "repeats": args.repeats,
            "torch_threads": torch.get_num_threads(),
            "load_average": os.getloadavg(),
            "centralized_s_per_epoch": central,
            "split_s_per_epoch": {b.value: per_epoch[b] for b in SPLITS},
            "ratio": {b.value: per_epoch[b] / central for b in SPLITS},
            "job_overhead_s": {b.value: overhead[b] for b in SPLITS},
            "goal_ratio": 1.3,
            "raw": {
                "centralized_s": central_all,
                **{f"{b.value}_train_s": train_s[b] for b in SPLITS},
                **{f"{b.value}_job_s": job_s[b] for b in SPLITS},
            },
        },
    )
    print(f"centralized {central:.3f} s/epoch; load average {os.getloadavg()}")
    for b in SPLITS:
        print(
            f"split ({b.value}) {per_epoch[b]:.3f} s/epoch, ratio {per_epoch[b] / central:.2f} "
            f"(goal <= 1.3); the rest of each job {overhead[b]:.1f} s"
        )
    print(f"-> {path}")


if __name__ == "__main__":
    main()
