"""A party's validated data, as the programs see it: IDs, a float matrix, labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vfl.errors import DataValidationError


@dataclass(frozen=True)
class PartyDataset:
    """Rows of one party. `ids` are normalised strings, unique; never logged or sent raw."""

    source: str
    ids: tuple[str, ...]
    features: NDArray[np.float32]
    feature_names: tuple[str, ...]
    labels: NDArray[np.float64] | None = None

    @property
    def rows(self) -> int:
        return len(self.ids)

    @property
    def width(self) -> int:
        return len(self.feature_names)

    def aligned(self, ids: tuple[str, ...] | list[str]) -> PartyDataset:
        """The rows for `ids`, in that order (the order every party agreed on)."""
        if not ids:
            raise DataValidationError(
                f"{self.source}: the parties share no IDs, nothing to train on; check that "
                "every party's id_column holds the same kind of ID and `align.normalize`"
            )
        index = {id_: i for i, id_ in enumerate(self.ids)}
        try:
            positions = np.fromiter((index[i] for i in ids), dtype=np.int64, count=len(ids))
        except KeyError:
            raise DataValidationError(
                f"{self.source}: the aligned ID list names rows this dataset does not hold; "
                "the data changed since alignment — run the align phase again"
            ) from None
        return PartyDataset(
            source=self.source,
            ids=tuple(ids),
            features=self.features[positions],
            feature_names=self.feature_names,
            labels=None if self.labels is None else self.labels[positions],
        )
