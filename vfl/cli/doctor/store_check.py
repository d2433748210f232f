"""The coordinator's store: reachable, and its schema at the newest migration. Read only:
the doctor never migrates (`vfl coordinator serve` does, at start)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from coordinator.database import MIGRATIONS
from vfl.cli.doctor.check import CheckResult, failed, passed

NAME = "store"


def check_store(url: str, source: str) -> CheckResult:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return failed(NAME, f"{source} database: {url!r} is not a SQLAlchemy URL")
    shown = parsed.render_as_string(hide_password=True)
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    local = parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:")
    if local and not Path(parsed.database or "").exists():  # sqlite would create it empty
        return failed(
            NAME,
            f"{shown} ({source} database) does not exist; `vfl coordinator serve` creates "
            "it, or fix the path",
        )
    engine = sa.create_engine(parsed)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except sa.exc.SQLAlchemyError as exc:
        why = str(getattr(exc, "orig", exc)).splitlines()[0]
        return failed(NAME, f"cannot open {shown} ({source} database): {why}; fix the URL")
    finally:
        engine.dispose()
    if current != head:
        return failed(
            NAME,
            f"{shown} is at migration {current or 'none'}, the code needs {head}; start "
            "`vfl coordinator serve` once (it migrates) or restore the matching vfl version",
        )
    return passed(NAME, f"{shown} opens, schema at migration {head}")
