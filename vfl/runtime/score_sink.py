"""Where a prediction job's scores are written at the party that receives them: a CSV or
Parquet file, or a SQL table, chunk by chunk, and never half-written.

Files are written to a temporary file beside the target (0600) and renamed over it once
the last chunk is in; SQL rows go to a staging table that replaces the target in one
transaction. A job that fails leaves no output and no staging file or table. An existing
output is refused unless `overwrite`, checked before anything is scored (`check`) and
again when committing.

On a party node the spec (a peer's) chooses only a relative file under
`state_dir/outputs` or the name of an output the party's own party.toml declares
(`[outputs.NAME]`: a file or a SQL table); anything else is refused in one line.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vfl.config.party_config import OutputConfig
from vfl.config.predict_spec import OutputFormat, VerticalPredictSpec
from vfl.errors import ConfigError
from vfl.runtime.workspace import FILE_MODE

if TYPE_CHECKING:
    import pandas as pd


def _exists_error(where: str) -> ConfigError:
    return ConfigError(
        f"predict.output: {where} already exists; choose another output or set "
        "[predict] overwrite = true"
    )


class ScoreSink(ABC):
    """Receives the scores chunk by chunk; `commit` makes them visible, `abort` drops them."""

    rows = 0

    @abstractmethod
    def check(self) -> None:
        """A one-line ConfigError now if the output exists and may not be replaced."""

    @abstractmethod
    def write(self, chunk: pd.DataFrame) -> None: ...

    @abstractmethod
    def commit(self) -> str:
        """Publish what was written; where it is (a path or `URL#table`, no credentials)."""

    @abstractmethod
    def abort(self) -> None: ...


class FileSink(ScoreSink):
    """CSV (header once, then appended chunks) or Parquet (one row group a chunk)."""

    def __init__(self, path: Path, fmt: OutputFormat, overwrite: bool) -> None:
        self.path, self.fmt, self.overwrite = path, fmt, overwrite
        self._tmp: Path | None = None
        self._writer: Any = None

    def check(self) -> None:
        if self.path.exists() and not self.overwrite:
            raise _exists_error(str(self.path))
        if not self.path.parent.is_dir():
            raise ConfigError(
                f"predict.output: folder {self.path.parent} does not exist; create it first"
            )

    def _open(self) -> Path:
        if self._tmp is None:
            self.check()
            fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            os.fchmod(fd, FILE_MODE)
            os.close(fd)
            self._tmp = Path(name)
        return self._tmp

    def write(self, chunk: pd.DataFrame) -> None:
        tmp = self._open()
        if self.fmt == OutputFormat.PARQUET:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(tmp, table.schema)
            self._writer.write_table(table)
        else:
            chunk.to_csv(tmp, mode="a", header=self.rows == 0, index=False)
        self.rows += len(chunk)

    def commit(self) -> str:
        tmp = self._open()
        if self.fmt == OutputFormat.PARQUET and self._writer is None:
            raise ConfigError("predict: no row was scored, so there is no Parquet schema")
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.path.exists() and not self.overwrite:
            raise _exists_error(str(self.path))
        tmp.replace(self.path)
        self._tmp = None
        return str(self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


class SqlSink(ScoreSink):
    """Rows appended to a staging table; `commit` drops (with overwrite) the target and
    renames the staging table to it in one transaction."""

    def __init__(self, url: str, table: str, overwrite: bool) -> None:
        import sqlalchemy as sa

        try:
            self.engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as exc:  # not echoed: it may hold a password
            raise ConfigError(
                f"predict.output: the URL of table {table!r} is not one SQLAlchemy can open "
                f"here ({type(exc).__name__}); fix the URL or install its driver"
            ) from None
        self.url = self.engine.url.render_as_string(hide_password=True)
        self.table, self.overwrite = table, overwrite
        self.staging = f"{table}__staging_{secrets.token_hex(4)}"

    def _exists(self, name: str) -> bool:
        import sqlalchemy as sa

        try:
            return sa.inspect(self.engine).has_table(name)
        except sa.exc.SQLAlchemyError as exc:  # the message may carry the URL: not shown
            raise ConfigError(
                f"predict.output: cannot reach {self.url} ({type(exc).__name__}); check the "
                "database and the URL"
            ) from None

    def check(self) -> None:
        if self._exists(self.table) and not self.overwrite:
            raise _exists_error(f"table {self.table!r} of {self.url}")

    def write(self, chunk: pd.DataFrame) -> None:
        if self.rows == 0:
            self.check()
        chunk.to_sql(self.staging, self.engine, if_exists="append", index=False)
        self.rows += len(chunk)

    def commit(self) -> str:
        import sqlalchemy as sa

        preparer = self.engine.dialect.identifier_preparer
        target, staging = preparer.quote(self.table), preparer.quote(self.staging)
        with self.engine.begin() as conn:
            if sa.inspect(conn).has_table(self.table):
                if not self.overwrite:
                    raise _exists_error(f"table {self.table!r} of {self.url}")
                conn.execute(sa.text(f"DROP TABLE {target}"))
            conn.execute(sa.text(f"ALTER TABLE {staging} RENAME TO {target}"))
        return f"{self.url}#{self.table}"

    def abort(self) -> None:
        import sqlalchemy as sa

        preparer = self.engine.dialect.identifier_preparer
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {preparer.quote(self.staging)}"))
        self.engine.dispose()


@dataclass(frozen=True)
class OutputPlace:
    """Where relative outputs land at a party, whether outputs must stay there, and the
    named outputs the party itself declared."""

    base: Path
    """The simulator: the spec's folder; a party node: `state_dir/outputs`."""
    confined: bool = False
    """A party node: only relative file paths under `base`, or a name in `named`. A job
    spec comes from a peer, which must not choose where on this party's disk (or in which
    database) to write."""
    named: Mapping[str, OutputConfig] = field(default_factory=dict)
    """A party node: party.toml's `[outputs.NAME]`, the only other places it writes to."""
    party: str = ""
    """Whose place this is, for errors."""


def _named_sink(predict: VerticalPredictSpec, name: str, place: OutputPlace) -> ScoreSink:
    declared = place.named.get(name)
    if declared is None:
        if not place.confined:
            raise ConfigError(
                f"predict.output: {name!r} names an output declared in a party node's "
                "party.toml ([outputs.NAME]); the simulator writes to a .csv/.parquet path or "
                "a SQL URL with table"
            )
        known = ", ".join(sorted(place.named)) or "none"
        raise ConfigError(
            f"predict.output: {name!r} is not an output party {place.party} declares in its "
            f"party.toml (declared: {known}); name one of them, or its operator adds "
            f"[outputs.{name}] with path or url + table"
        )
    if predict.overwrite and not declared.overwrite:
        raise ConfigError(
            f"predict.overwrite: party {place.party}'s output {name!r} may not be replaced "
            f"by a job (its party.toml [outputs.{name}] has overwrite = false); drop "
            "overwrite or its operator sets it to true"
        )
    if declared.url is not None:
        assert declared.table is not None, "validated: a url has a table"
        return SqlSink(declared.url, declared.table, predict.overwrite)
    assert declared.path is not None, "validated: path or url"
    return FileSink(Path(declared.path), declared.format, predict.overwrite)


def open_sink(predict: VerticalPredictSpec, place: OutputPlace) -> ScoreSink:
    """The sink of `[predict] output` at the party that receives the scores (the only
    party that resolves a named output)."""
    output, fmt = predict.output, predict.output_format
    base, deployed = place.base, place.confined
    assert output is not None, "only called with an output"
    if predict.output_name is not None:
        return _named_sink(predict, predict.output_name, place)
    assert fmt is not None, "a path or a URL"
    if fmt == OutputFormat.SQL:
        if deployed:
            raise ConfigError(
                "predict.output: a party node writes scores only to files under its "
                "state_dir/outputs or to an output its party.toml declares; give a relative "
                '.csv or .parquet path, or output = "NAME" of an [outputs.NAME] there'
            )
        assert predict.table is not None, "validated: a SQL output has a table"
        return SqlSink(output, predict.table, predict.overwrite)
    path = Path(output)
    if deployed and (path.is_absolute() or ".." in path.parts):
        raise ConfigError(
            f"predict.output: {output!r} leaves this party's state_dir/outputs; give a "
            "relative path without '..'"
        )
    return FileSink(path if path.is_absolute() else base / path, fmt, predict.overwrite)
