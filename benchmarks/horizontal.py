"""vfl's horizontal mode side by side with Flower, in one run (issue 10).

Ten parties, 20 rounds of FedAvg (weighted by examples, every party every round), MLP
23-64-32-1, one local epoch of SGD (batch 64, lr 0.05), on default credit (joined from
../shared/data/fate when present, a synthetic twin otherwise) split IID and with
Dirichlet(0.5) label skew; a global test set of 20% that no party trains on
(benchmarks/horizontal_data.py). Both frameworks train on exactly the same rows, scaled
alike, from the same initial parameters; the benchmark scores both final models on the
test set with the same code.

Each run is a fresh process, measured from outside (benchmarks/process_tree.py): wall time
of the process and of the framework's call (`vfl.simulate`, Flower's `run_simulation`
with Ray's start), peak memory of the process tree (Σ PSS), bytes, global test AUC.
- vfl: `simulate` with secure_aggregation off and on; bytes are the ledger's (what every
  participant sent). Its time includes its evaluate phase (each party scores its rows).
- Flower (flwr with its simulation engine, Ray limited to --cpus CPUs) runs in its own
  virtualenv (--flower-venv, created and installed here when missing) with
  benchmarks/horizontal_flower.py. Its simulation sends nothing over a wire: its bytes are
  an estimate, parameters × 4 bytes × 2 directions × parties × rounds.

- vfl over gRPC + mTLS (benchmarks/horizontal_grpc.py): the same job, secure aggregation
  on, deployed as a coordinator and one party node per party, each its own process on
  loopback; measured as one tree (a driver process that starts them, submits the job and
  stops them). Its call is the job's submission to its result; `start_seconds` is the
  federation's start (certificates, processes, imports, every node connected); bytes are
  the result JSON's (what every participant sent, as the coordinator counted it).

    .venv/bin/python -m benchmarks.horizontal [--rows 30000] [--rounds 20] [--repeats 1]
        [--fate ../shared/data/fate] [--flower-venv /tmp/flwr-venv]
        [--sides vfl vfl_secagg vfl_grpc flower]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import write_result
from benchmarks.horizontal_data import (
    Settings,
    credit,
    flower_arrays,
    global_auc,
    holdout,
    split,
    write_job,
)
from benchmarks.process_tree import TreeRun, run_measured
from vfl.api import simulate

ROOT = Path(__file__).resolve().parents[1]
FLOWER_SCRIPT = Path(__file__).resolve().parent / "horizontal_flower.py"
FLOWER_REQUIREMENTS = (["torch==2.13.0"], ["flwr[simulation]>=1.42"])
"""torch first and pinned to the CPU build these machines carry: unpinned, it pulls GBs of
CUDA wheels. Then Flower with its simulation extra (Ray)."""
TIMEOUT = 3600
SIDES = ("vfl", "vfl_secagg", "vfl_grpc", "flower")
NAMES = {
    "vfl": "vfl simulate",
    "vfl_secagg": "vfl simulate + secure agg.",
    "vfl_grpc": "vfl gRPC+mTLS + secure agg.",
    "flower": "Flower simulation (Ray)",
}


def ensure_flower(venv: Path) -> tuple[Path, str, float | None]:
    """(python, flwr version, seconds spent installing or None if it was there) of Flower's
    own virtualenv, made and installed if it lacks flwr."""
    python = venv / "bin" / "python"
    start = time.perf_counter()
    installed = False
    if not _flwr_version(python):
        installed = True
        print(f"installing Flower into {venv} (a few minutes) ...", flush=True)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        for packages in FLOWER_REQUIREMENTS:
            pip = [str(python), "-m", "pip", "install", "-q", *packages]
            done = subprocess.run(pip, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                tail = "\n".join(done.stderr.strip().splitlines()[-5:])
                raise SystemExit(f"installing {packages} into {venv} failed:\n{tail}")
    version = _flwr_version(python)
    if not version:
        raise SystemExit(f"{venv}: flwr still not importable after installing it")
    return python, version, time.perf_counter() - start if installed else None


def _flwr_version(python: Path) -> str:
    if not python.exists():
        return ""
    probe = "import flwr, ray; print(flwr.__version__)"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def probe(spec: Path, workdir: Path) -> None:
    """One vfl run in this (fresh) process: prints seconds and bytes as one JSON line."""
    start = time.perf_counter()
    result = simulate(spec, workdir=workdir)
    seconds = time.perf_counter() - start
    if result.status != "succeeded":
        raise SystemExit(f"vfl run failed: {result.error}")
    sent = sum(b["sent"] for b in result.bytes.values())
    print(json.dumps({"seconds": seconds, "bytes": sent, "timings": result.timings}))


def _checked(run: TreeRun, what: str) -> dict[str, Any]:
    if run.returncode != 0:
        raise SystemExit(f"{what} failed ({run.returncode}):\n{run.stderr.strip()[-3000:]}")
    out: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return {**out, "process_seconds": run.seconds, "peak_bytes": run.peak_bytes}


def run_vfl(
    spec: Path, workdir: Path, test: pd.DataFrame, hidden: tuple[int, ...]
) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "benchmarks.horizontal", "--probe", str(spec), str(workdir)]
    out = _checked(run_measured(argv, ROOT, env, TIMEOUT), f"vfl {spec.name}")
    with np.load(workdir / "coordinator" / "model" / "weights.npz") as model:
        out["test_auc"] = global_auc(model["params"], model["mean"], model["scale"], test, hidden)
    return out


def run_grpc(spec: Path, root: Path, test: pd.DataFrame, hidden: tuple[int, ...]) -> dict[str, Any]:
    """The deployed run (benchmarks/horizontal_grpc.py) of the secure-aggregation job."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "benchmarks.horizontal_grpc", str(spec), str(root)]
    out = _checked(run_measured(argv, ROOT, env, TIMEOUT), f"vfl deployed {spec.name}")
    with np.load(out["model"]) as model:
        out["test_auc"] = global_auc(model["params"], model["mean"], model["scale"], test, hidden)
    return out


def run_flower(
    python: Path, arrays: Path, folder: Path, test: pd.DataFrame, settings: Settings, cpus: int
) -> dict[str, Any]:
    params = folder / "flower-final.npy"
    config = {**asdict(settings), "hidden": list(settings.hidden), "cpus": cpus}
    argv = [str(python), str(FLOWER_SCRIPT), str(arrays), str(params), json.dumps(config)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = _checked(run_measured(argv, folder, env, TIMEOUT), "Flower")
    with np.load(arrays) as data:
        mean, scale, size = data["mean"], data["scale"], data["init"].size
        out["test_auc"] = global_auc(np.load(params), mean, scale, test, settings.hidden)
    out["bytes"] = size * 4 * 2 * settings.parties * settings.rounds
    out["bytes_estimated"] = True
    return out


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians over repeats per side, and vfl over Flower (when Flower ran)."""
    out: dict[str, Any] = {}
    for side, results in runs.items():
        keys = ["seconds", "process_seconds", "peak_bytes", "bytes", "test_auc"]
        keys += ["start_seconds"] if side == "vfl_grpc" else []
        out[side] = {key: statistics.median(r[key] for r in results) for key in keys}
    if "flower" not in out:
        return out
    flower = out["flower"]
    for side in set(out) - {"flower"}:
        out[side]["seconds_over_flower"] = out[side]["seconds"] / flower["seconds"]
        out[side]["process_seconds_over_flower"] = (
            out[side]["process_seconds"] / flower["process_seconds"]
        )
        out[side]["auc_minus_flower"] = out[side]["test_auc"] - flower["test_auc"]
    return out


def table(results: dict[str, Any]) -> str:
    head = (
        f"{'split':<10} {'run':<28} {'call s':>7} {'proc s':>7} {'× Flower':>8} "
        f"{'peak MiB':>8} {'MB sent':>8} {'test AUC':>8}"
    )
    lines = [head, "-" * len(head)]
    for kind, summary in results.items():
        for side in (s for s in SIDES if s in summary):
            row = summary[side]
            ratio = "1" if side == "flower" else f"{row.get('seconds_over_flower', 0):.2f}"
            mb = f"{row['bytes'] / 1e6:.1f}" + ("*" if side == "flower" else "")
            lines.append(
                f"{kind:<10} {NAMES[side]:<28} {row['seconds']:>7.1f} "
                f"{row['process_seconds']:>7.1f} {ratio:>8} {row['peak_bytes'] / 2**20:>8.0f} "
                f"{mb:>8} {row['test_auc']:>8.4f}"
            )
    lines.append("* Flower's bytes: estimate (parameters × 4 B × 2 × parties × rounds)")
    lines.append(
        "gRPC+mTLS: call s = job submitted to result; proc s = the whole tree, the start of "
        "the coordinator and nodes included"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--parties", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--splits", nargs="+", default=["iid", "dirichlet"])
    parser.add_argument("--cpus", type=int, default=2, help="CPUs Ray may use")
    parser.add_argument("--fate", type=Path, default=ROOT.parent / "shared" / "data" / "fate")
    parser.add_argument("--flower-venv", type=Path, default=Path("/tmp/flwr-venv"))
    parser.add_argument(
        "--sides", nargs="+", choices=SIDES, default=list(SIDES), help="the rows to run"
    )
    parser.add_argument("--probe", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(*args.probe)
        return
    settings = Settings(parties=args.parties, rounds=args.rounds)
    load_before = os.getloadavg()
    sides = [side for side in SIDES if side in args.sides]
    python, version, install_s = (
        ensure_flower(args.flower_venv) if "flower" in sides else (Path(), "", None)
    )
    frame, source = credit(args.fate, args.rows)
    rest, test = holdout(frame, settings.test_fraction)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.splits:
            folder = Path(tmp) / kind
            parties = split(rest, kind, settings)
            specs = {
                "vfl": write_job(folder, parties, settings, False, f"credit-{kind}"),
                "vfl_secagg": write_job(folder, parties, settings, True, f"credit-{kind}"),
            }
            arrays = folder / "flower.npz"
            flower: dict[str, Any] = flower_arrays(specs["vfl"])  # Any: savez's stub
            np.savez(arrays, **flower)
            runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
            for repeat in range(args.repeats):
                for side in sides:  # alternate, so load drift on the shared box hits all
                    print(f"{kind} {side} (repeat {repeat + 1})", flush=True)
                    if side == "flower":
                        got = run_flower(python, arrays, folder, test, settings, args.cpus)
                    elif side == "vfl_grpc":
                        root = folder / f"{side}-{repeat}"
                        got = run_grpc(specs["vfl_secagg"], root, test, settings.hidden)
                    else:
                        workdir = folder / f"{side}-{repeat}"
                        got = run_vfl(specs[side], workdir, test, settings.hidden)
                    runs[side].append(got)
                    print(f"  {json.dumps(got)}", flush=True)
            results[kind] = {**summarize(runs), "runs": runs, "rows": [len(p) for p in parties]}
    print(table(results))
    out = {
        "data": {"source": source, "rows": len(frame), "test_rows": len(test)},
        "settings": asdict(settings),
        "repeats": args.repeats,
        "flower": {"flwr": version, "ray_cpus": args.cpus, "install_seconds": install_s},
        "sides": sides,
        "results": results,
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }
    print(f"wrote {write_result('horizontal', out)}")


if __name__ == "__main__":
    main()
