"""What the source's and the target's train programs share: the protection's side opened
around the epochs, and the resume point read from the last per-epoch checkpoint."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Generic, Protocol, TypeVar

import torch
from torch import nn

from vfl.algorithms.split.messages import EXCHANGE_STEP
from vfl.algorithms.transfer.exchange import KeyPolicy
from vfl.runtime.context import PartyContext
from vfl.runtime.program import Program


class _Side(Protocol):
    def start(self, ctx: PartyContext, keys: KeyPolicy) -> None: ...

    def close(self) -> None: ...


class _Setup(Protocol):
    @property
    def side(self) -> _Side: ...


S = TypeVar("S", bound=_Setup)


class ExchangeTraining(Program, Generic[S]):
    """A train program over one protection side: set up, start the side, train, close it."""

    phase = "train"

    def __init__(self, keys: KeyPolicy | None = None) -> None:
        self.keys = keys or KeyPolicy()
        """Paillier keys (protection paillier); tests pass small ones."""

    def run(self, ctx: PartyContext) -> None:
        s = self._setup(ctx)
        try:
            s.side.start(ctx.scoped(step=EXCHANGE_STEP), self.keys)
            self._train(ctx, s)
        finally:
            s.side.close()

    @abstractmethod
    def _setup(self, ctx: PartyContext) -> S: ...

    @abstractmethod
    def _train(self, ctx: PartyContext, s: S) -> None: ...


def resume(
    ctx: PartyContext, net: nn.Module, optimizer: torch.optim.Optimizer
) -> tuple[int, dict[str, Any]]:
    """The first epoch to run and the last checkpoint (empty if none), with `net` and
    `optimizer` restored from it: a restarted party carries on after its last full epoch."""
    checkpoint = ctx.workspace.load_checkpoint("train")
    if checkpoint is None:
        return 0, {}
    net.load_state_dict(checkpoint["net"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return int(checkpoint["epoch"]) + 1, checkpoint
