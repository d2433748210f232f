"""Held-out accuracy (AUC for binary data) of Paillier split training against plain, per optimizer.

A measurement, not a test: public FATE example data from ../shared/data/fate (Statlog
vehicle, 4 classes, 846 aligned rows, 18 features split 9 + 9; breast, binary), 20 % held
out, B = 64, 2048-bit keys unless --key-bits. For each model and optimizer setting, one
plain and one Paillier run of the same spec with the same fixed party secrets, job id and
spec digest (so the same batches and the same initial weights: the difference is the
protocol's, not the draw's; with fresh secrets, as in deployment, the held-out accuracy
of 169 rows moved by ~0.03 between two draws), per --secret-seeds:
- adam: the default; the Paillier interactive layer trains by SGD (momentum 0), as before;
- adam+momentum: Adam for the layers a party holds, SGD with momentum 0.9 for the feature
  holder's interactive slice, in both modes (vfl/algorithms/split/label_optimizer.py);
- sgd+momentum: SGD with momentum 0.9 everywhere, in both modes.
The last two compute the same function in both modes, up to fixed-point rounding.

    .venv/bin/python -m benchmarks.paillier_parity [--data vehicle] [--epochs 20]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.common import write_result
from tests.factories import job_dict, job_spec
from vfl.api import simulate

FATE = Path(__file__).resolve().parents[2] / "shared" / "data" / "fate"
DATA = {
    "vehicle": ("vehicle_scale_hetero", "multiclass", "accuracy"),
    "breast": ("breast_hetero", "binary", "auc"),
}
MODELS: dict[str, dict[str, Any]] = {
    "logistic": {"kind": "logistic_regression"},
    "split_nn": {"bottom_hidden": [16], "cut_width": 8, "top_hidden": [8]},
}
SETTINGS: dict[str, dict[str, Any]] = {
    "adam": {"optimizer": "adam", "learning_rate": 0.01},
    "adam+momentum": {"optimizer": "adam", "learning_rate": 0.01, "momentum": 0.9},
    "sgd+momentum": {"optimizer": "sgd", "learning_rate": 0.05, "momentum": 0.9},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", choices=sorted(DATA), default="vehicle")
    parser.add_argument("--fate", type=Path, default=FATE, help="folder of the FATE csv files")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--key-bits", type=int, default=2048)
    parser.add_argument("--precision-bits", type=int, default=16)
    parser.add_argument("--secret-seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    args = parser.parse_args()
    stem, task, metric = DATA[args.data]
    out: dict[str, Any] = {"data": args.data, "metric": metric, "epochs": args.epochs}
    out.update(batch_size=args.batch_size, key_bits=args.key_bits, runs={})
    out["precision_bits"] = args.precision_bits
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = {"guest": folder / "guest.csv", "host": folder / "host.csv"}
        for party, path in paths.items():
            pd.read_csv(args.fate / f"{stem}_{party}.csv").to_csv(path, index=False)
        for model, setting, seed in (
            (m, s, k) for m in args.models for s in args.settings for k in args.secret_seeds
        ):
            secrets = {p: hashlib.sha256(f"{p}/{seed}".encode()).digest() for p in paths}
            row: dict[str, Any] = {}
            for protection in ("none", "paillier"):
                train = {
                    **SETTINGS[setting],
                    "protection": protection,
                    "epochs": args.epochs,
                    "batch_size": args.batch_size,
                    "validation_fraction": 0.2,
                    "key_bits": args.key_bits,
                    "precision_bits": args.precision_bits,
                    "workers": 1,
                }
                spec = job_spec(job_dict(paths, model={"task": task, **MODELS[model]}, train=train))
                start = time.perf_counter()
                result = simulate(
                    spec,
                    workdir=folder / f"{model}-{setting}-{seed}-{protection}",
                    job_id="parity",
                    party_secrets=secrets,
                    spec_digest=hashlib.sha256(b"parity").digest(),
                )
                assert result.status == "succeeded", result.error
                row[protection] = result.metrics["validation"][metric]
                row[f"{protection}_wall_s"] = round(time.perf_counter() - start, 1)
            row["difference"] = row["paillier"] - row["none"]
            out["runs"][f"{model}/{setting}/{seed}"] = row
            print(
                f"{args.data} {model} {setting} secrets {seed}: plain {row['none']:.4f} "
                f"paillier {row['paillier']:.4f} ({row['difference']:+.4f}; "
                f"{row['paillier_wall_s']} s)",
                flush=True,
            )
    print(
        write_result(
            f"paillier_parity_{args.data}_{'_'.join(args.models)}_f{args.precision_bits}", out
        )
    )


if __name__ == "__main__":
    main()
