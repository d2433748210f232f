"""`[predict]` of a vertical job: use a registered model on new rows (docs/predict.md).

`[job] mode` stays the training mode and `[model]`/`[train] protection` stay the training
spec's (the registry compares their digest); `[predict]` names the model, who gets the
scores and where they are written there.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import PurePath
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

MODEL_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
OUTPUT_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
"""A named output: declared in the receiving party's own party.toml (`[outputs.NAME]`).
No dot, so it can never be taken for a .csv/.parquet file, nor for a URL."""


class MissingPartyRows(StrEnum):
    """What a prediction job does with rows of the label holder that a feature holder lacks."""

    ERROR = "error"
    """Fail the job, naming how many rows are missing (the default)."""
    IMPUTE = "impute"
    """Score them with every feature holder's input set to its training mean: after the
    feature holder's own scaling that is a row of zeros, which its bottom model runs on."""


class OutputFormat(StrEnum):
    """How scores are written at the party that receives them."""

    CSV = "csv"
    PARQUET = "parquet"
    SQL = "sql"


class VerticalPredictSpec(BaseModel):
    """`[predict]`: score new rows with the model a vertical training job registered."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    model: str = Field(pattern=MODEL_ID)
    """The training job's id (`vfl model list` at any party shows it)."""
    deliver_to: str | None = None
    """The party the scores land at; default the label holder. No other party gets them."""
    output: str | None = None
    """At `deliver_to`: a .csv or .parquet path (relative: to the spec's folder in the
    simulator, to `state_dir/outputs` on a party node), a SQLAlchemy URL with `table`
    (simulator only), or the name of an output `deliver_to` declares in its party.toml
    (`[outputs.NAME]`, a party node only: a file or a SQL table the party chose). Optional
    when the label holder declares `label_column` (evaluation only)."""
    table: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    """With a SQL URL: the table the scores are written to."""
    overwrite: bool = False
    """Replace an existing output; otherwise an existing one fails the job before it runs."""
    missing_party_rows: MissingPartyRows = MissingPartyRows.ERROR
    """Rows of the label holder that a feature holder lacks: `error` or `impute`."""
    chunk_rows: int = Field(default=65_536, ge=1, le=1_000_000)
    """Rows scored and written per chunk: bounds the memory of the forward pass and the
    writer whatever the number of rows."""

    @property
    def output_name(self) -> str | None:
        """The declared output this job names (no suffix, no URL), else None."""
        if self.output is None or not re.match(OUTPUT_NAME, self.output):
            return None
        return self.output

    @property
    def output_format(self) -> OutputFormat | None:
        """How a path or URL output is written; None without one or for a named output
        (its party's declaration says)."""
        if self.output is None or self.output_name is not None:
            return None
        if "://" in self.output:
            return OutputFormat.SQL
        return OutputFormat.PARQUET if self.output.endswith(".parquet") else OutputFormat.CSV

    @model_validator(mode="after")
    def _check_output(self) -> Self:
        if self.output is None:
            if self.table is not None:
                raise ValueError("predict.table applies only with a SQL `output` URL")
            return self
        if self.output_name is not None:
            if self.table is not None:
                raise ValueError(
                    f"predict.table: output {self.output!r} names an output declared in "
                    "party.toml, which says its table; drop `table`"
                )
            return self
        is_sql = "://" in self.output
        if is_sql and self.table is None:
            raise ValueError(
                f"predict.output: a SQL URL needs `table` (found output = {self.output!r} and "
                'no table); add table = "scores"'
            )
        if not is_sql:
            if self.table is not None:
                raise ValueError("predict.table applies only to SQL URLs, but output is a path")
            if PurePath(self.output).suffix not in (".csv", ".parquet"):
                raise ValueError(
                    f"predict.output: {self.output!r} is neither .csv nor .parquet; name the "
                    "file scores.csv or scores.parquet, give a SQLAlchemy URL and table, or "
                    "the name (letters, digits, _ and -) of an output declared in party.toml"
                )
        return self
