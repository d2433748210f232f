"""One page of a long list: the rows shown and how many there are in all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PAGE = 500
"""Most rows one call returns, whatever a page asks for."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """`items` are rows `offset` to `offset + len(items)` of `total`."""

    items: tuple[T, ...]
    offset: int
    limit: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def bounded(offset: int, limit: int) -> tuple[int, int]:
    """A non-negative offset and a limit between 1 and MAX_PAGE."""
    return max(0, offset), min(max(1, limit), MAX_PAGE)
