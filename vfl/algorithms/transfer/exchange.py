"""The seam between the FTL programs and how values cross parties, chosen by protection.

The programs (source.py, target.py) own the loop: rows, epochs, checkpoints, reports. One
batch's exchange is a side's: `SourceSide.train_batch` and `TargetSide.train_batch` run
the batch's steps together, `scores` / `serve_scores` the forward-only pass of metrics.
Plaintext sides are in plain.py, the Paillier sides (the Taylor-expanded loss under each
party's key, paillier/) in encrypted.py; protections.py maps `train.protection` to them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.algorithms.transfer.model import ftl_loss
from vfl.config.job_spec import TransferJobSpec
from vfl.crypto.keys import MIN_KEY_BITS, KeyPair, generate_keypair
from vfl.runtime.context import PartyContext


@dataclass(frozen=True)
class KeyPolicy:
    """How a train program's side gets its Paillier key and which peer keys it accepts;
    tests hand small keys through vfl.crypto.testing (production: the defaults)."""

    keygen: Callable[[int], KeyPair] = generate_keypair
    min_key_bits: int = MIN_KEY_BITS
    """Smallest peer modulus accepted (the spec's key_bits when larger)."""


def epoch_batches(
    spec: TransferJobSpec, schedule: BatchSchedule, epoch: int
) -> list[NDArray[np.int64]]:
    """The epoch's batches as both parties cut them. Under paillier a short last batch is
    merged into the one before: an exchange needs at least 4(p+1) rows (a head gradient
    over fewer would reveal the peer's per-row values; paillier/bounds.py)."""
    batches = schedule.train_batches(epoch)
    short = len(batches) > 1 and len(batches[-1]) < spec.train.batch_size
    if spec.train.protection == "paillier" and short:
        batches = [*batches[:-2], np.concatenate(batches[-2:])]
    return batches


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
    prediction_loss: str = "logistic"
    """ℓ: "logistic" (the codec's) or "taylor" (train.prediction_loss)."""

    def loss(self, u_b: torch.Tensor) -> torch.Tensor:
        """L of the batch against the target's representations `u_b` (Net_A run anew)."""
        return ftl_loss(
            self.codec, self.net(self.x), u_b, self.labels, self.gamma, self.prediction_loss
        )


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

    def start(self, ctx: PartyContext, keys: KeyPolicy) -> None:
        """Once per train phase, before the first batch (`ctx` a fixed scope of the
        phase): keys and handshake. Plaintext has none."""
        return None

    @abstractmethod
    def train_batch(self, ctx: PartyContext, batch: SourceBatch) -> float | None:
        """Run the batch's `local_rounds` steps with the target; the loss at the exchange,
        or None when the protection keeps it from the source (paillier)."""

    @abstractmethod
    def scores(self, ctx: PartyContext, summary: torch.Tensor, rows: int) -> torch.Tensor:
        """The scores u_B·Φᵀ of `rows` overlap rows the target serves (forward only)."""

    def close(self) -> None:
        """Release what the side holds (worker pools); plaintext holds nothing."""
        return None


class TargetSide(ABC):
    """The target's end of one protection's exchange with the source."""

    def start(self, ctx: PartyContext, keys: KeyPolicy) -> None:
        """Once per train phase, before the first batch; plaintext has nothing to start."""
        return None

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
