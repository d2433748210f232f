"""Read a party's table from a CSV file, a Parquet file or a SQL database.

The ID column is always read as text, so `007` stays `007` and integer IDs compare as text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from vfl.config.job_spec import PartySpec
from vfl.errors import DataValidationError


def describe_source(party: PartySpec) -> str:
    """How errors name this source: the file name, or the URL's table/query without secrets."""
    if "://" not in party.data:
        return Path(party.data).name
    url = sa.make_url(party.data)
    what = f"table {party.table}" if party.table else "query"
    return f"{url.drivername}:{url.database or ''} ({what})"


def read_table(party: PartySpec, base_dir: Path) -> pd.DataFrame:
    if "://" in party.data:
        return _read_sql(party, base_dir)
    path = Path(party.data)
    if not path.is_absolute():
        path = base_dir / path
    name = path.name
    if not path.exists():
        raise DataValidationError(
            f"{name}: file not found at {path} (data paths are relative to the job spec)"
        )
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt", ".tsv"):
        try:
            sep = "\t" if suffix == ".tsv" else ","
            return pd.read_csv(path, sep=sep, dtype={party.id_column: str})
        except pd.errors.EmptyDataError:
            raise DataValidationError(f"{name}: file is empty (no header, no rows)") from None
        except pd.errors.ParserError as exc:
            raise DataValidationError(f"{name}: not a readable CSV ({exc})") from None
    raise DataValidationError(
        f"{name}: unsupported file type {suffix!r}; use .csv, .tsv, .parquet or a SQLAlchemy URL"
    )


def _read_sql(party: PartySpec, base_dir: Path) -> pd.DataFrame:
    url = sa.make_url(party.data)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        db = Path(url.database)
        if not db.is_absolute():
            url = url.set(database=str(base_dir / db))
        if not Path(url.database or "").exists():
            raise DataValidationError(
                f"{describe_source(party)}: SQLite file not found at {url.database} (relative "
                "paths start at the folder of the job spec or party.toml)"
            )
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if party.table is not None:
                tables = sa.inspect(conn).get_table_names()
                if party.table not in tables:
                    raise DataValidationError(
                        f"{describe_source(party)}: table {party.table!r} not found "
                        f"(tables: {', '.join(tables) or 'none'})"
                    )
                table = sa.Table(party.table, sa.MetaData(), autoload_with=conn)
                return pd.read_sql(sa.select(table), conn)
            return pd.read_sql(sa.text(party.query or ""), conn)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) else exc
        reason = str(cause.orig) if isinstance(cause, sa.exc.DBAPIError) else type(cause).__name__
        raise DataValidationError(
            f"{describe_source(party)}: SQL read failed ({reason}); check `table`/`query`"
        ) from None
    finally:
        engine.dispose()
