"""`vfl simulate JOB.toml [--json PATH]`: run every party of a job in this process."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import torch

from vfl.api import simulate
from vfl.cli.commands import help_for
from vfl.cli.progress import ProgressReporter, print_summary
from vfl.config.loading import load_job


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("simulate", help=help_for("simulate"))
    p.add_argument("job", type=Path, help="the job spec (TOML)")
    p.add_argument("--json", type=Path, help="write the result JSON here")
    p.add_argument("--workdir", type=Path, help="party state and models (default .vfl/runs/ID)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return run_job(args.job, args.json, args.workdir)


def run_job(job: Path, json_path: Path | None, workdir: Path | None) -> int:
    # Every party runs in this process; small per-batch matrices gain nothing from torch's
    # intra-op threads, and the thread pools of several parties fight over the cores.
    torch.set_num_threads(int(os.environ.get("VFL_TORCH_THREADS", "1")))
    spec = load_job(job)
    with ProgressReporter(spec.train.epochs) as progress:
        result = simulate(spec, workdir=workdir, reporter=progress)
    print_summary(result)
    if json_path is not None:
        result.write(json_path)
    return 0 if result.status == "succeeded" else 1
