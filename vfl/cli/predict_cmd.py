"""`vfl predict SPEC [--model ID] [--output PATH]`: run a prediction job (a spec with
`[predict]`) in the simulator, with the parts registered under `--home` (default .vfl).
`--model` and `--output` (relative to the current folder) override the spec's; deployed,
the same spec goes to `vfl job submit`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import torch

from vfl.api import predict
from vfl.cli.commands import help_for
from vfl.cli.progress import ProgressReporter, print_summary
from vfl.config.job_spec import VerticalJobSpec
from vfl.config.loading import load_job
from vfl.errors import ConfigError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("predict", help=help_for("predict"))
    p.add_argument("job", type=Path, help="the prediction job spec (TOML with [predict])")
    p.add_argument("--model", help="the training job's id (overrides predict.model)")
    p.add_argument("--output", help="a .csv/.parquet path or SQL URL (overrides predict.output)")
    p.add_argument("--table", help="with a SQL --output: the table")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--home", type=Path, help="the model registries' folder (default .vfl)")
    p.add_argument("--workdir", type=Path, help="the run's party folders (default HOME/runs/ID)")
    p.add_argument("--json", type=Path, help="write the result JSON here")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(int(os.environ.get("VFL_TORCH_THREADS", "1")))
    spec = load_job(args.job)
    if not isinstance(spec, VerticalJobSpec) or spec.predict is None:
        raise ConfigError(
            f"{args.job}: no [predict] table; add one naming the model (predict.model = "
            "the training job's id), or train with `vfl simulate`"
        )
    updates: dict[str, object] = {}
    if args.model is not None:
        updates["model"] = args.model
    if args.output is not None:
        url = "://" in args.output
        updates["output"] = args.output if url else str(Path(args.output).resolve())
        updates["table"] = args.table
    if args.overwrite:
        updates["overwrite"] = True
    if updates:  # validated again: an override is as strict as the file
        raw = spec.model_dump(mode="json")
        raw["predict"] = {**raw["predict"], **updates}
        spec = VerticalJobSpec.model_validate(raw).with_base_dir(spec.base_dir)
    with ProgressReporter(spec.train.epochs) as progress:
        result = predict(spec, home=args.home, workdir=args.workdir, reporter=progress)
    print_summary(result)
    if args.json is not None:
        result.write(args.json)
    return 0 if result.status == "succeeded" else 1
