"""Where registries live: a party node keeps one in `state_dir/models`; the simulator keeps
one per party in `HOME/models/<party>` (HOME: `.vfl` by default, or `vfl simulate
--workdir`). `vfl model` finds them from either folder."""

from __future__ import annotations

from pathlib import Path

from vfl.errors import ConfigError
from vfl.registry.sqlite_registry import SqliteModelRegistry

NODE_MARKER = "party.db"
"""A party node's state folder holds its SQLite store under this name."""
SIMULATOR_HOME = Path(".vfl")


def node_registry_dir(state_dir: Path) -> Path:
    return state_dir / "models"


def simulator_registry_dir(home: Path, party: str) -> Path:
    return home / "models" / party


def find_registries(workdir: Path) -> dict[str, Path]:
    """The registries under `workdir`, by party name ("" for a node's own, whose name its
    parts carry); a one-line ConfigError if there is none."""
    if (workdir / NODE_MARKER).is_file() or SqliteModelRegistry.exists(node_registry_dir(workdir)):
        return {"": node_registry_dir(workdir)}
    models = workdir / "models"
    found = (
        {d.name: d for d in sorted(models.iterdir()) if SqliteModelRegistry.exists(d)}
        if models.is_dir()
        else {}
    )
    if not found:
        raise ConfigError(
            f"{workdir}: no model registry here (a party node's state_dir, or the simulator's "
            "folder, .vfl by default); train a job first or pass --workdir"
        )
    return found
