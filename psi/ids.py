"""Where a PSI program reads its IDs from, normalised and checked, in bounded chunks.

The simulator hands programs the party's loaded dataset; `vfl psi` and the benchmark read
tens of millions of IDs straight from a CSV column in chunks, so a party never holds more
than one chunk of ID strings while the group operations run. Both sources apply the same
checks: no blank IDs, no line breaks of any kind (aligned IDs are stored one per line and
read back with `str.splitlines`), valid UTF-8,
at most `MAX_ID_BYTES`. Duplicates are found later on the hashed values (see matching.py),
which works in bounded memory for any size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from vfl.config.id_rules import IdRule
from vfl.errors import DataValidationError

MAX_ID_BYTES = 65_536
CHUNK = 1 << 16


class IdSource(Protocol):
    """A party's IDs, in a fixed order (the order positions refer to)."""

    @property
    def name(self) -> str:
        """Names the source in error messages (a file and column, never an ID)."""
        ...

    def size_hint(self) -> int:
        """How many IDs there are, or an overestimate: never fewer (RSA-PSI declares it to
        the signer as the most values it will have signed)."""
        ...

    def chunks(self, size: int = CHUNK) -> Iterator[list[str]]:
        """Normalised, checked IDs in order, `size` at a time."""
        ...

    def select(self, positions: NDArray[np.int64]) -> list[str]:
        """The IDs at `positions` (in that order); positions are checked by the caller."""
        ...


def normalise(ids: Sequence[str], rules: Sequence[str], source: str, offset: int) -> list[str]:
    """Apply the job's `[align] normalize` rules in order, then check every ID."""
    out = list(ids)
    for rule in map(IdRule, rules):
        out = [rule.apply(i) for i in out]
    for n, value in enumerate(out):
        _check(value, source, offset + n)
    return out


def _check(value: str, source: str, row: int) -> None:
    where = f"{source}: ID on data row {row + 1}"
    if value == "":
        raise DataValidationError(f"{where} is blank; every row needs an ID")
    if value.splitlines() != [value]:  # \n, \r, but also \x1c-\x1e, \x85, \u2028...
        raise DataValidationError(f"{where} contains a line break; remove it from the source")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise DataValidationError(f"{where} is not valid Unicode text; fix the source") from None
    if size > MAX_ID_BYTES:
        raise DataValidationError(f"{where} has {size} bytes; IDs may have at most {MAX_ID_BYTES}")


class MemoryIds:
    """IDs already in memory, e.g. a loaded PartyDataset's (normalised by the loader)."""

    def __init__(self, name: str, ids: Sequence[str], rules: Sequence[str] = ()) -> None:
        self._name = name
        self._ids = ids
        self._rules = tuple(rules)

    @property
    def name(self) -> str:
        return self._name

    def size_hint(self) -> int:
        return len(self._ids)

    def chunks(self, size: int = CHUNK) -> Iterator[list[str]]:
        for start in range(0, len(self._ids), size):
            yield normalise(self._ids[start : start + size], self._rules, self._name, start)

    def select(self, positions: NDArray[np.int64]) -> list[str]:
        rows = [self._ids[int(p)] for p in positions]
        return normalise(rows, self._rules, self._name, 0)


class CsvIds:
    """One column of a CSV file, read as text (so `007` stays `007`) a chunk at a time."""

    def __init__(self, path: Path, column: str, rules: Sequence[str] = ()) -> None:
        self._path = path
        self._column = column
        self._rules = tuple(rules)
        if not path.is_file():
            raise DataValidationError(f"{path}: file not found")
        header = pd.read_csv(path, nrows=0)
        columns = [str(c) for c in header.columns]
        if column not in columns:
            raise DataValidationError(
                f"{path}: ID column {column!r} not found (columns: {', '.join(columns)})"
            )

    @property
    def name(self) -> str:
        return f"{self._path}[{self._column}]"

    def size_hint(self) -> int:
        """Lines after the header, the last one counted without its line break: never fewer
        than the rows (RSA-PSI declares this number and may not send more); blank lines and
        quoted line breaks make it an overcount."""
        lines, last = 0, b"\n"
        with self._path.open("rb") as fh:
            while block := fh.read(1 << 24):
                lines += block.count(b"\n")
                last = block[-1:]
        return max(lines - 1 + (last != b"\n"), 0)

    def _raw_chunks(self, size: int) -> Iterator[list[str]]:
        reader = pd.read_csv(
            self._path,
            usecols=[self._column],
            dtype=str,
            keep_default_na=False,
            chunksize=size,
        )
        with reader:
            for frame in reader:
                yield frame[self._column].tolist()

    def chunks(self, size: int = CHUNK) -> Iterator[list[str]]:
        offset = 0
        for raw in self._raw_chunks(size):
            yield normalise(raw, self._rules, self.name, offset)
            offset += len(raw)

    def select(self, positions: NDArray[np.int64]) -> list[str]:
        """One more pass over the file keeping only the wanted rows: memory ~ the result."""
        order = np.argsort(positions, kind="stable")
        wanted = positions[order]
        found: list[str] = []
        offset = 0
        cursor = 0
        for raw in self._raw_chunks(CHUNK):
            end = offset + len(raw)
            stop = int(np.searchsorted(wanted, end, side="left"))
            found.extend(raw[int(p) - offset] for p in wanted[cursor:stop])
            cursor = stop
            offset = end
        if cursor != len(wanted):
            raise DataValidationError(f"{self.name}: the file changed while aligning; run again")
        result: list[str] = [""] * len(found)
        for rank, index in enumerate(order):
            result[int(index)] = found[rank]
        return normalise(result, self._rules, self.name, 0)


@dataclass(frozen=True)
class LocalIds:
    """What an align program run outside a job (`vfl psi`) reads: its IDs, streamed from a
    file, and how many worker processes it may use for group operations."""

    source: IdSource
    workers: int | None = None
