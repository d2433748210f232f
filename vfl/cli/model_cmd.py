"""`vfl model list|show ID|delete ID|export ID --onnx OUT`: the trained parts in a
party's model registry.

`--workdir` is a party node's `state_dir` (its registry: `state_dir/models`) or the
simulator's folder (`.vfl` by default, `vfl simulate --home`; a registry per party under
`models/<party>`). Only what identifies a part is printed: ids, digests, metrics, peers,
never weights.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from vfl.cli.commands import help_for
from vfl.errors import ConfigError
from vfl.registry.locations import SIMULATOR_HOME, find_registries
from vfl.registry.part import RegisteredPart, check_job_id
from vfl.registry.sqlite_registry import SqliteModelRegistry

HEADLINE = ("auc", "ks", "accuracy", "rmse", "r2")
"""The metrics `vfl model list` shows, when the part has them (the validation split's)."""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("model", help=help_for("model"))
    inner = p.add_subparsers(dest="model_command", required=True)
    listing = inner.add_parser("list", help="every registered part")
    listing.set_defaults(handler=run_list)
    show = inner.add_parser("show", help="one part: digests, metrics, the other parties")
    show.add_argument("job_id", help="the training job's id")
    show.set_defaults(handler=run_show)
    delete = inner.add_parser("delete", help="forget a part and delete its files")
    delete.add_argument("job_id", help="the training job's id")
    delete.set_defaults(handler=run_delete)
    export = inner.add_parser("export", help="this party's part as an ONNX graph")
    export.add_argument("job_id", help="the training job's id")
    export.add_argument("--onnx", type=Path, required=True, help="the .onnx file to write")
    export.set_defaults(handler=run_export)
    for cmd in (listing, show, delete, export):
        cmd.add_argument(
            "--workdir",
            type=Path,
            default=SIMULATOR_HOME,
            help="a party node's state_dir or the simulator's folder (default .vfl)",
        )
        cmd.add_argument("--party", help="only this party's registry (simulator folders)")
        cmd.add_argument("--json", action="store_true", help="print JSON")


def _registries(args: argparse.Namespace) -> list[SqliteModelRegistry]:
    found = find_registries(args.workdir)
    if args.party is not None:
        if args.party not in found:
            names = ", ".join(n for n in found if n) or "a party node's own"
            raise ConfigError(
                f"--party: no registry of {args.party!r} in {args.workdir} (found: {names})"
            )
        found = {args.party: found[args.party]}
    return [SqliteModelRegistry(path) for path in found.values()]


def _when(part: RegisteredPart) -> str:
    return dt.datetime.fromtimestamp(part.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _headline(part: RegisteredPart) -> str:
    metrics = part.metrics.get("validation") or next(iter(part.metrics.values()), {})
    keys = [k for k in HEADLINE if k in metrics] or list(metrics)[:3]
    shown = ", ".join(f"{k} {metrics[k]:.4g}" for k in keys) or "no metrics here"
    who = f"{part.party} ({part.role}, {part.mode}, {part.protection})"
    return f"{part.job_id}  {who}  {_when(part)}  {shown}"


def listing(workdir: Path, job_id: str | None = None) -> list[str]:
    """`vfl model list --workdir WORKDIR`'s lines (only `job_id`'s parts, if given)."""
    parts = [
        part
        for path in find_registries(workdir).values()
        for part in SqliteModelRegistry(path).parts()
        if job_id is None or part.job_id == job_id
    ]
    return [_headline(part) for part in parts] or ["no registered model parts"]


def run_list(args: argparse.Namespace) -> int:
    parts = [part for registry in _registries(args) for part in registry.parts()]
    if args.json:
        print(json.dumps([p.to_json() for p in parts], indent=2))
    elif not parts:
        print("no registered model parts")
    for part in parts if not args.json else []:
        print(_headline(part))
    return 0


def _matching(args: argparse.Namespace) -> list[tuple[SqliteModelRegistry, RegisteredPart]]:
    check_job_id(args.job_id, "vfl model")
    found = [(r, p) for r in _registries(args) if (p := r.get(args.job_id)) is not None]
    if not found:
        raise ConfigError(
            f"vfl model: no part of job {args.job_id!r} in {args.workdir}; "
            "`vfl model list` shows the registered ones"
        )
    return found


def run_show(args: argparse.Namespace) -> int:
    parts = [p for _, p in _matching(args)]
    if args.json:
        print(json.dumps([p.to_json() for p in parts], indent=2))
        return 0
    for part in parts:
        print(_headline(part))
        print(f"  spec digest   {part.spec_digest}")
        print(f"  model digest  {part.model_digest}")
        peers = ", ".join(f"{name} ({role})" for name, role in part.peers)
        print(f"  other parts   {peers or 'none'}")
        for split, values in part.metrics.items():
            print(f"  {split:<13} " + ", ".join(f"{k} {v:.4g}" for k, v in values.items()))
    return 0


def run_delete(args: argparse.Namespace) -> int:
    for registry, part in _matching(args):
        registry.delete(part.job_id)
        print(f"deleted {part.party}'s part of {part.job_id}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """One party's part to ONNX (docs/export.md): a simulator folder holds every party's
    registry, so it needs `--party` when more than one holds a part of the job."""
    from vfl.export.onnx import export_part  # noqa: PLC0415 (onnx loads only to export)

    found = _matching(args)
    if len(found) > 1:
        names = ", ".join(part.party for _, part in found)
        raise ConfigError(
            f"vfl model export: {names} each hold a part of job {args.job_id!r} in "
            f"{args.workdir}; name one with --party"
        )
    registry, part = found[0]
    out = export_part(registry.folder_of(part.job_id), args.onnx)
    print(f"wrote {part.party}'s part of {part.job_id} ({part.role}) to {out}")
    return 0
