"""`vfl psi`: a local two-party PSI between two CSV files, each side in its own process.

    vfl psi --left customers.csv:customer_id --right partner.csv:cid --out aligned/

Prints the shared count, seconds, bytes each way and each side's peak memory, and writes
OUT/left/aligned_ids.txt and OUT/right/aligned_ids.txt (not with --cardinality-only).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from parties.align_programs import align_program_for
from psi.local_run import Side, run_two_party
from psi.rr22.native import require_fastpsi
from vfl.cli.commands import help_for
from vfl.config.id_rules import IdRule
from vfl.config.job_spec import AlignSpec
from vfl.errors import ConfigError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("psi", help=help_for("psi"))
    p.add_argument("--left", required=True, help="FILE[:COLUMN] of the label holder side")
    p.add_argument("--right", required=True, help="FILE[:COLUMN] of the other side")
    p.add_argument(
        "--protocol", choices=["ecdh", "rsa", "rr22"], default="ecdh", help="align.protocol"
    )
    p.add_argument("--cardinality-only", action="store_true", help="only count the shared IDs")
    p.add_argument("--normalize", nargs="*", choices=list(IdRule), default=[], help="ID clean-up")
    p.add_argument("--out", type=Path, default=Path("psi-out"), help="where aligned IDs go")
    p.add_argument("--workers", type=int, help="worker processes per side (default: all cores)")
    p.set_defaults(handler=run)


def parse_side(text: str, flag: str) -> Side:
    """FILE or FILE:COLUMN (default column `id`); a path that exists wins over a colon."""
    if Path(text).exists() or ":" not in text:
        return Side(Path(text), "id")
    path, column = text.rsplit(":", 1)
    if not column:
        raise ConfigError(f"{flag} {text!r}: empty column name after ':'")
    return Side(Path(path), column)


def run(args: argparse.Namespace) -> int:
    try:
        align = AlignSpec(
            protocol=args.protocol,
            cardinality_only=args.cardinality_only,
            normalize=args.normalize,
        )
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ConfigError(message) from None
    if align.protocol == "rr22":
        require_fastpsi()  # here, in one line, before two processes start and fail alike
    left, right = parse_side(args.left, "--left"), parse_side(args.right, "--right")
    console = Console(stderr=True)
    with Progress(
        TextColumn("psi"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("psi", total=None)
        lh, fh, wall = run_two_party(
            left,
            right,
            align,
            args.out,
            workers=args.workers,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
            programs=align_program_for,
        )
    print(f"shared IDs: {lh.intersection_size if lh.intersection_size >= 0 else '?'}")
    print(f"seconds: {wall:.2f}")
    print(f"bytes left->right: {lh.bytes_sent}  right->left: {fh.bytes_sent}")
    for side in (lh, fh):
        print(
            f"{side.party}: {side.rows} IDs, peak memory {side.peak_rss_bytes / 2**20:.0f} MiB "
            f"(workers {side.workers_peak_rss_bytes / 2**20:.0f} MiB)"
            + (f", aligned IDs in {side.aligned_ids}" if side.aligned_ids else "")
        )
    return 0
