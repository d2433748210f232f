"""The models a party holds: each job's published model part in its workspace.

A model folder is `state_dir/jobs/<job>/model/` (model.json and its weights). Only the
description is read: role, kind, task, how many features, size on disk and when it was
written; never a weight, and never a label statistic the metadata may hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dashboard.queries.page import Page, bounded

SHOWN_META = ("mode", "role", "kind", "task")
"""The model.json keys a page may show: words, never numbers drawn from the data."""


@dataclass(frozen=True)
class LocalModel:
    job_id: str
    written_at: float
    bytes: int
    features: int
    description: dict[str, str]


def local_models(state_dir: Path, offset: int = 0, limit: int = 25) -> Page[LocalModel]:
    """Model parts held here, the newest first."""
    offset, limit = bounded(offset, limit)
    jobs = state_dir / "jobs"
    found: list[tuple[float, Path]] = []
    if jobs.is_dir():
        for meta in jobs.glob("*/model/model.json"):
            found.append((meta.stat().st_mtime, meta.parent))
    found.sort(key=lambda f: (-f[0], f[1].parent.name))
    items = tuple(_describe(folder, at) for at, folder in found[offset : offset + limit])
    return Page(items, offset, limit, len(found))


def _describe(folder: Path, at: float) -> LocalModel:
    try:
        meta = json.loads((folder / "model.json").read_text())
    except (OSError, ValueError):
        meta = {}
    names = meta.get("feature_names") or meta.get("features") or []
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    shown = {k: str(meta[k]) for k in SHOWN_META if isinstance(meta.get(k), str | bool)}
    return LocalModel(folder.parent.name, at, size, len(names), shown)
