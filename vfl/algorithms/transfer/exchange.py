"""The seam between the FTL programs and how values cross parties, chosen by protection.

The programs (source.py, target.py) own the loop: rows, epochs, checkpoints, reports. One
batch's exchange is a side's: `SourceSide.train_batch` and `TargetSide.train_batch` run
the batch's steps together, `scores` / `serve_scores` the forward-only pass of metrics.
Plaintext sides are in plain.py; protections.py maps `train.protection` to its sides (the
Paillier sides, the Taylor-expanded loss under each party's key in paillier/, are one
line there when they land).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.transfer.model import ftl_loss
from vfl.config.job_spec import TransferJobSpec
from vfl.runtime.context import PartyContext


@dataclass
class SourceBatch:
    """What the source brings to one training batch: its network, its rows of the batch,
    their labels, and the loss's knobs."""

    net: nn.Module
    optimizer: torch.optim.Optimizer
    x: torch.Tensor
    """The source's (standardised) features of the batch's rows."""
    labels: torch.Tensor
    """The batch's labels as `codec.encode` gives them."""
    codec: LabelCodec
    gamma: float
    local_rounds: int

    def loss(self, u_b: torch.Tensor) -> torch.Tensor:
        """L of the batch against the target's representations `u_b` (Net_A run anew)."""
        return ftl_loss(self.codec, self.net(self.x), u_b, self.labels, self.gamma)


@dataclass
class TargetBatch:
    """What the target brings to one training batch."""

    net: nn.Module
    optimizer: torch.optim.Optimizer
    x: torch.Tensor
    local_rounds: int

    def forward(self) -> torch.Tensor:
        out: torch.Tensor = self.net(self.x)
        return out


class SourceSide(ABC):
    """The source's end of one protection's exchange with the target."""

    @abstractmethod
    def train_batch(self, ctx: PartyContext, batch: SourceBatch) -> float:
        """Run the batch's `local_rounds` steps with the target; the loss at the exchange."""

    @abstractmethod
    def scores(self, ctx: PartyContext, summary: torch.Tensor, rows: int) -> torch.Tensor:
        """The scores u_B·Φᵀ of `rows` overlap rows the target serves (forward only)."""

    def close(self) -> None:
        """Release what the side holds (worker pools); plaintext holds nothing."""
        return None


class TargetSide(ABC):
    """The target's end of one protection's exchange with the source."""

    @abstractmethod
    def train_batch(self, ctx: PartyContext, batch: TargetBatch) -> None:
        """Run the batch's `local_rounds` steps with the source."""

    @abstractmethod
    def serve_scores(self, ctx: PartyContext, u_b: torch.Tensor) -> None:
        """Let the source score these rows' representations (forward only)."""

    def close(self) -> None:
        """Release what the side holds; plaintext holds nothing."""
        return None


@dataclass(frozen=True)
class Sides:
    """One protection's two ends; each factory takes the spec and the peer's name."""

    source: Callable[[TransferJobSpec, str], SourceSide]
    target: Callable[[TransferJobSpec, str], TargetSide]
