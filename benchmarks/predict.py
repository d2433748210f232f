"""Prediction throughput (issue 16): rows per second of a vertical prediction job, plain
and Paillier, against training's per-row cost measured in the same run.

Data: synthetic, two parties (a bank with the label and 10 columns, a shop with 13), IDs
as strings, Parquet files. Each protection trains a split model (bottoms 10/13 → 32 → 16,
top 16 → 16 → 1, batch 256) for `--epochs` on `--train-rows` rows in the simulator, which
registers the parts, then runs a prediction job (`vfl.predict`) over `--rows` new rows
(Paillier: `--paillier-rows`, 2048-bit keys) written to a Parquet file in chunks of
`--chunk-rows`. Alignment is `join` so PSI stays out of both timings (benchmarks/psi.py
measures it). Reported per protection: the predict phase's seconds and rows/s, training's
seconds per row-epoch, their ratio, and the process's peak RSS (the loaded tables count).

    .venv/bin/python -m benchmarks.predict [--rows 1000000] [--paillier-rows 2048]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from benchmarks.common import write_result
from vfl.api import predict, simulate
from vfl.config.job_spec import VerticalJobSpec, vertical
from vfl.config.loading import parse_job

WIDTHS = {"bank": 10, "shop": 13}


def _tables(folder: Path, rows: int, seed: int, labelled: bool = True) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, sum(WIDTHS.values()))).astype(np.float32)
    y = (x @ rng.normal(size=x.shape[1]) > 0).astype(np.int64)
    ids = np.char.add("id-", np.arange(rows).astype(str))
    folder.mkdir(parents=True)
    paths, start = {}, 0
    for party, width in WIDTHS.items():
        frame = pd.DataFrame(
            x[:, start : start + width], columns=[f"{party}_{j}" for j in range(width)]
        )
        start += width
        frame.insert(0, "id", ids)
        if party == "bank" and labelled:
            frame["y"] = y
        paths[party] = folder / f"{party}.parquet"
        frame.to_parquet(paths[party], index=False)
    return paths


def _spec(paths: dict[str, Path], protection: str, epochs: int, **predict: Any) -> VerticalJobSpec:
    parties = [
        {"name": "bank", "role": "label_holder", "data": str(paths["bank"]), "id_column": "id"},
        {"name": "shop", "role": "feature_holder", "data": str(paths["shop"]), "id_column": "id"},
    ]
    if not predict:
        parties[0]["label_column"] = "y"
    raw: dict[str, Any] = {
        "job": {"name": f"bench-{protection}", "seed": 7},
        "parties": parties,
        "align": {"protocol": "join"},
        "model": {"bottom_hidden": [32], "cut_width": 16, "top_hidden": [16]},
        "train": {"protection": protection, "epochs": epochs, "batch_size": 256},
    }
    if protection == "paillier":
        raw["train"].update({"optimizer": "sgd", "learning_rate": 0.05})
    if predict:
        raw["predict"] = predict
    return vertical(parse_job(raw, source="benchmark"))


def _run(
    root: Path, protection: str, train_rows: int, rows: int, epochs: int, chunk: int
) -> dict[str, Any]:
    home = root / protection
    trained = simulate(
        _spec(_tables(home / "train", train_rows, 0), protection, epochs),
        home=home,
        workdir=home / "t",
    )
    assert trained.status == "succeeded", trained.error
    new = _tables(home / "new", rows, 1, labelled=False)
    out = home / "scores.parquet"
    spec = _spec(new, protection, epochs, model=trained.job_id, output=str(out), chunk_rows=chunk)
    result = predict(spec, home=home, workdir=home / "p")
    assert result.status == "succeeded", result.error
    predict_s = result.timings["predict_s"]
    train_per_row = trained.timings["train_s"] / (train_rows * epochs)
    predict_per_row = predict_s / rows
    return {
        "train_rows": train_rows,
        "epochs": epochs,
        "train_s": round(trained.timings["train_s"], 3),
        "train_s_per_row_epoch": train_per_row,
        "predict_rows": rows,
        "chunk_rows": chunk,
        "predict_s": round(predict_s, 3),
        "align_s": round(result.timings["align_s"], 3),
        "rows_per_s": round(rows / predict_s, 1),
        "predict_s_per_row": predict_per_row,
        "predict_over_train_per_row": round(predict_per_row / train_per_row, 4),
        "scores_rows": len(pd.read_parquet(out, columns=["score"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="plain prediction rows")
    parser.add_argument("--paillier-rows", type=int, default=2048)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--paillier-train-rows", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--chunk-rows", type=int, default=65_536)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        plain = _run(Path(tmp), "none", args.train_rows, args.rows, args.epochs, args.chunk_rows)
        print("plain", plain, flush=True)
        paillier = _run(
            Path(tmp),
            "paillier",
            args.paillier_train_rows,
            args.paillier_rows,
            args.epochs,
            args.chunk_rows,
        )
        print("paillier", paillier, flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path = write_result(
        "predict", {"plain": plain, "paillier": paillier, "peak_rss_mb": round(peak_mb, 1)}
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
