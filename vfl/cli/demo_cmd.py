"""`vfl demo`: the sample vertical job (breast cancer, hospital + lab) end to end."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vfl.cli.simulate_cmd import run_job
from vfl.errors import ConfigError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("demo", help="run the sample vertical job")
    p.add_argument("--samples", type=Path, default=SAMPLES, help="the samples folder")
    p.add_argument("--json", type=Path, help="write the result JSON here")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    job = args.samples / "breast" / "job.toml"
    if not job.exists():
        raise ConfigError(f"{job}: sample job not found; pass --samples DIR (the repo's samples/)")
    print(f"demo: {job} — a hospital (labels) and a lab train one model; rows stay home")
    return run_job(job, args.json, None)
