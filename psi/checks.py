"""Checks on hashed vectors: our own duplicates (a data error) and a peer's (a protocol error)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from psi.ids import IdSource
from psi.matching import duplicate_count
from vfl.errors import DataValidationError, ProtocolError


def require_unique_ids(hashed: NDArray[np.uint8], source: IdSource) -> None:
    """Equal IDs hash to equal values, so duplicates are found without keeping ID strings."""
    dupes = duplicate_count(hashed)
    if dupes:
        raise DataValidationError(
            f"{source.name}: {dupes} IDs repeat an earlier ID (after normalisation); IDs must "
            "be unique — deduplicate the source"
        )


def require_distinct(rows: NDArray[np.uint8], what: str, expected: int | None = None) -> None:
    if expected is not None and len(rows) != expected:
        raise ProtocolError(f"{what}: {len(rows)} values, expected {expected}")
    if duplicate_count(rows):
        raise ProtocolError(f"{what}: repeats values; a correct peer never does")
