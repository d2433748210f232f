"""Dummy IDs after a party's own, so its PSI peers learn a bound, not its row count.

PSI reveals set sizes. In a transfer job that tells the source how many rows the target
will score outside the intersection; with `align.pad_target_to = N` the target runs PSI
on its IDs followed by dummies up to N. A dummy is 256 bits from the target's party
secret (replayable after a restart, unknowable to anyone else), so it matches no real ID
except with probability ~2^-256 per pair; the peer sees N blinded values either way.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from psi.ids import CHUNK, IdSource
from vfl.errors import DataValidationError, ProtocolError
from vfl.runtime.party_secret import DerivedRandomness


class PaddedIds:
    """`inner`'s IDs (exactly `rows` of them), then dummies up to `total`."""

    def __init__(self, inner: IdSource, rows: int, total: int, stream: DerivedRandomness) -> None:
        if rows > total:
            raise DataValidationError(
                f"{inner.name}: {rows} IDs, more than align.pad_target_to = {total}; raise it "
                "to at least the target's row count"
            )
        self._inner, self._rows, self._total, self._stream = inner, rows, total, stream

    @property
    def name(self) -> str:
        return self._inner.name

    def size_hint(self) -> int:
        return self._total

    def _dummies(self, start: int, stop: int) -> list[str]:
        return [f"~pad-{self._stream.bits(i, 256):064x}" for i in range(start, stop)]

    def chunks(self, size: int = CHUNK) -> Iterator[list[str]]:
        yield from self._inner.chunks(size)
        for start in range(self._rows, self._total, size):
            yield self._dummies(start, min(start + size, self._total))

    def select(self, positions: NDArray[np.int64]) -> list[str]:
        if len(positions) and int(np.max(positions)) >= self._rows:
            raise ProtocolError(
                f"{self._inner.name}: a padding row was selected as shared; the peer's "
                "selection is not the intersection"
            )
        return self._inner.select(positions)
