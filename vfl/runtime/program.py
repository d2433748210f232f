"""A program is the code one role runs in one phase of one job."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from vfl.runtime.context import PartyContext


class Program(ABC):
    """Subclasses implement `run`; they talk to peers only through `ctx`."""

    phase: ClassVar[str]

    @abstractmethod
    def run(self, ctx: PartyContext) -> None:
        """Do this role's part of the phase. Results go to `ctx.workspace` and `ctx.report`."""
