"""Read-only handles on the two databases the dashboards read.

The coordinator's store is opened so that no statement can write: SQLite through a
`mode=ro` URI (a bug in a page can not change a job), PostgreSQL with every transaction
read-only. A party node's SQLite is opened the same way. Writes go through the admin API
(coordinator) or the node's approval path (party), never through these handles.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from vfl.errors import ConfigError


class CoordinatorDb:
    """An engine on the coordinator's store that refuses writes."""

    def __init__(self, url: str) -> None:
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError:
            raise ConfigError(f"database: {url!r} is not a SQLAlchemy URL") from None
        if parsed.drivername.startswith("sqlite"):
            path = parsed.database or ""
            if path in ("", ":memory:") or not Path(path).exists():
                raise ConfigError(f"database: {path or url!r} not found; start the coordinator")
            # file: URI with mode=ro: SQLite itself refuses every write on this connection
            ro = f"sqlite:///file:{quote(str(Path(path).resolve()))}?mode=ro&uri=true"
            self.engine = sa.create_engine(ro, connect_args={"check_same_thread": False})
        else:
            self.engine = sa.create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"options": "-c default_transaction_read_only=on"},
            )

    def close(self) -> None:
        self.engine.dispose()


class NodeDb:
    """A party node's own SQLite (state_dir/party.db), opened read-only."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise ConfigError(f"{path}: not found; has `vfl party serve` run with this config?")
        self.path = path

    def connect(self) -> sqlite3.Connection:
        uri = f"file:{quote(str(path_abs(self.path)))}?mode=ro"
        return sqlite3.connect(uri, uri=True, check_same_thread=False)


def path_abs(path: Path) -> Path:
    return path.resolve()
