"""Checks on hashed vectors: our own duplicates (a data error) and a peer's (a protocol error);
and on the result, too few shared rows to train on."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from psi.ids import IdSource
from psi.matching import duplicate_count
from vfl.config.job_spec import align_roles
from vfl.config.phase_plan import Phase
from vfl.errors import DataValidationError, ProtocolError
from vfl.runtime.context import PartyContext


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


def require_min_intersection(ctx: PartyContext, size: int) -> None:
    """Refuse to train on too few shared rows; every party learned `size` from PSI, so each
    one checks it and the job fails at all of them with the same line."""
    minimum = align_roles(ctx.job).align.min_intersection
    if Phase.TRAIN in ctx.job.phases and size < minimum:
        shared = "no IDs" if size == 0 else f"{size} rows"
        raise DataValidationError(
            f"job spec: the parties share {shared}, fewer than align.min_intersection = "
            f"{minimum}; check id_column and align.normalize on every side, add shared rows, "
            "or lower align.min_intersection"
        )
