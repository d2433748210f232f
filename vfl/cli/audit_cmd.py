"""`vfl audit JOB.toml [--json PATH]`: simulate a job and mount privacy attacks on it.

Runs every party in this process like `vfl simulate`, recording what each party received,
then lets each party attack the others with its own view (docs/privacy.md): feature
holders infer labels from the gradients they received. Prints the findings; the result
JSON carries them in `privacy.attacks`, beside the ε of label-DP when the job has it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from vfl.api import audit
from vfl.cli.commands import help_for
from vfl.cli.progress import ProgressReporter, print_summary
from vfl.config.loading import load_job
from vfl.result import JobResult


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("audit", help=help_for("audit"))
    p.add_argument("job", type=Path, help="the job spec (TOML)")
    p.add_argument("--json", type=Path, help="write the result JSON (with privacy.attacks) here")
    p.add_argument("--workdir", type=Path, help="party state and models (default .vfl/runs/ID)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(int(os.environ.get("VFL_TORCH_THREADS", "1")))  # as simulate_cmd
    spec = load_job(args.job)
    with ProgressReporter(spec.train.epochs) as progress:
        result = audit(args.job, workdir=args.workdir, reporter=progress)
    print_summary(result)
    print_findings(result)
    if args.json is not None:
        result.write(args.json)
    return 0 if result.status == "succeeded" else 1


def print_findings(result: JobResult, console: Console | None = None) -> None:
    # piped output is 80 columns to rich, which would clip the attack names
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title="privacy audit", show_header=True)
    for column in ("attacker", "target", "attack", "metric"):
        table.add_column(column)
    table.add_column("value", justify="right")
    table.add_column("ε spent", justify="right")
    for f in result.privacy.attacks:
        spent = result.privacy.epsilon.get(f.attacker)
        table.add_row(
            f.attacker,
            f.target,
            f.attack,
            f.metric,
            f"{f.value:.3f}",
            "none" if spent is None else f"{spent:.3g}",
        )
    console.print(table)
