"""Fixtures shared by the integration tests: databases for the coordinator's store."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get("VFL_TEST_POSTGRES_URL")


def _fresh_postgres_schema(url: str) -> tuple[str, str]:
    """A new database on the test server so each test starts empty."""
    name = f"vfl_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return str(sa.make_url(url).set(database=name)), name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(str(request.param), tmp_path) as url:
        yield url


@contextlib.contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: SQLite in `tmp_path`, or PostgreSQL (skipped unless
    VFL_TEST_POSTGRES_URL is set), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'coordinator.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("VFL_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    url, name = _fresh_postgres_schema(POSTGRES_URL)
    yield url
    engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
