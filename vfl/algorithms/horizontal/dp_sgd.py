"""Record-level DP-SGD at a sample holder, with Opacus: every example's gradient clipped to
`clip`, Gaussian noise of std z·clip on each batch's sum, batches drawn by Poisson sampling
at rate batch_size / rows; Opacus's RDP accountant reports ε at δ for this party's rows.

What it protects: one row of this party against everyone who sees what this party sends
(its updates, and the global model all parties receive). It composes with secure
aggregation and client-level DP; it does not cover the metrics each party reports.

One trainer lives through the train phase (Opacus wraps the model and optimizer once). Each
round re-seeds its sampling and noise generators from the party's secret and the round, so
a resumed party draws the same batches and noise; the accountant's history (steps taken)
is checkpointed and restored with the round counter.
"""

from __future__ import annotations

import warnings

import torch
from opacus import PrivacyEngine
from opacus.accountants.utils import get_noise_multiplier
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vfl.algorithms.horizontal.local_training import (
    LocalConfig,
    LocalResult,
    flatten,
    load_flat,
    mean_loss,
)
from vfl.algorithms.horizontal.strategies import Vector
from vfl.algorithms.split.preprocess import LabelCodec


def noise_for(target: float, delta: float, sample_rate: float, steps: int) -> float:
    """Opacus's noise multiplier reaching ε = `target` after `steps` steps."""
    return float(
        get_noise_multiplier(
            target_epsilon=target, target_delta=delta, sample_rate=sample_rate, steps=steps
        )
    )


class DpSgdTrainer:
    """One party's private local trainer over the rounds of a train phase."""

    def __init__(
        self,
        model: nn.Module,
        codec: LabelCodec,
        x: torch.Tensor,
        y: torch.Tensor,
        config: LocalConfig,
        noise_multiplier: float,
        clip: float,
    ) -> None:
        self.codec, self.x, self.y, self.config = codec, x, y, config
        self.noise_multiplier = noise_multiplier
        self.sampling = torch.Generator()
        self.noise = torch.Generator()
        loader = DataLoader(
            TensorDataset(x, y), batch_size=config.batch_size, generator=self.sampling
        )
        optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate)
        # Opacus warns that its secure RNG mode is off: the noise comes from a torch
        # generator seeded from the party's secret, so a resumed party draws it again
        # (docs/horizontal.md says what that leaves open)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.engine = PrivacyEngine(accountant="rdp")
            self.model, self.optimizer, self.loader = self.engine.make_private(
                module=model,
                optimizer=optimizer,
                data_loader=loader,
                noise_multiplier=noise_multiplier,
                max_grad_norm=clip,
                noise_generator=self.noise,
            )
        self.sample_rate = 1 / len(self.loader)
        self.steps = 0

    @property
    def _plain(self) -> nn.Module:
        inner: nn.Module = self.model._module
        return inner

    def restore(self, steps: int) -> None:
        """After a restart: the accountant has seen `steps` steps of this trainer."""
        self.steps = steps
        if steps:
            self.engine.accountant.history = [(self.noise_multiplier, self.sample_rate, steps)]

    def round(self, global_params: Vector, seeds: tuple[int, int]) -> LocalResult:
        """Local epochs of DP-SGD from the global parameters; Δ = local − global."""
        self.sampling.manual_seed(seeds[0])
        self.noise.manual_seed(seeds[1])
        load_flat(self._plain, global_params)
        before = mean_loss(self._plain, self.codec, self.x, self.y)
        for _ in range(self.config.epochs):
            for xb, yb in self.loader:
                if len(xb) == 0:
                    continue
                self.optimizer.zero_grad()
                self.codec.loss(self.model(xb), yb).backward()  # type: ignore[no-untyped-call]
                self.optimizer.step()
                self.steps += 1
        return LocalResult(flatten(self._plain) - global_params, len(self.x), before)

    def epsilon(self, delta: float) -> float:
        return float(self.engine.get_epsilon(delta)) if self.steps else 0.0
