"""`vfl simulate JOB.toml [--json PATH] [--backend threads|processes|ray]`: run every party
of a job in threads of this process (the default), each in a process of its own, or each
as a Ray actor (the `ray` extra)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import torch

from vfl.api import Backend, simulate
from vfl.cli.commands import help_for
from vfl.cli.progress import ProgressReporter, print_summary
from vfl.config.loading import load_job


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("simulate", help=help_for("simulate"))
    p.add_argument("job", type=Path, help="the job spec (TOML)")
    p.add_argument("--json", type=Path, help="write the result JSON here")
    p.add_argument("--workdir", type=Path, help="party state and models (default HOME/runs/ID)")
    p.add_argument(
        "--home",
        type=Path,
        help="the parties' model registries, HOME/models/<party> (default: --workdir, else .vfl)",
    )
    p.add_argument(
        "--job-id",
        help="the job's id (default: name-random); a prediction spec names the model by it",
    )
    p.add_argument(
        "--backend",
        type=Backend,
        choices=list(Backend),
        default=Backend.THREADS,
        help="threads of this process (default), a process per party (parties compute at "
        "once; seconds to start each), or one Ray actor per party: pip install 'vfl[ray]'; "
        "connects to RAY_ADDRESS if set, else starts a local Ray",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return run_job(args.job, args.json, args.workdir, args.backend, args.home, args.job_id)


def run_job(
    job: Path,
    json_path: Path | None,
    workdir: Path | None,
    backend: Backend = Backend.THREADS,
    home: Path | None = None,
    job_id: str | None = None,
) -> int:
    # With threads every party runs in this process; small per-batch matrices gain nothing
    # from torch's intra-op threads, and the thread pools of several parties fight over the
    # cores. (With processes each participant sizes its own: vfl.process_simulation.)
    torch.set_num_threads(int(os.environ.get("VFL_TORCH_THREADS", "1")))
    spec = load_job(job)
    with ProgressReporter(spec.train.epochs) as progress:
        result = simulate(
            spec, workdir=workdir, reporter=progress, backend=backend, home=home, job_id=job_id
        )
    print_summary(result)
    if json_path is not None:
        result.write(json_path)
    return 0 if result.status == "succeeded" else 1
