"""Label-DP on the cut-layer gradient the label holder returns to the feature holders.

The noise goes in δ-space (δ = ∂loss/∂z, B×u), before δ meets any party's weights, so
one mechanism serves both protection modes: in plain mode the label holder sends
δ̃·W_pᵀ, under Paillier it computes [[δ̃·Wᵀ]] without ever holding W. Every feature holder
gets the same δ̃ for a batch (the noise depends on the batch, not the peer), so a
coalition of feature holders learns no more about a label than one of them: the ε holds
against any coalition. The mechanism and its accounting: accountant.py, docs/privacy.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from vfl.config.job_spec import PrivacySpec
from vfl.runtime.events import PrivacyReport
from vfl.runtime.party_secret import PartySecret

if TYPE_CHECKING:
    from vfl.privacy.accountant import LabelDpAccountant

PURPOSE = "split/label_dp"
"""The party-secret stream of the noise: one per batch scope, with no peer in it."""


def batch_generator(secret: PartySecret, scope: str) -> np.random.Generator:
    """This batch's noise: from the label holder's own secret, never the job seed, so no
    feature holder can predict it; by message scope only, so every feature holder gets
    the same δ̃ and a restarted program re-sends exactly what it sent (replay)."""
    return secret.derive(PURPOSE, scope).generator()


@dataclass(frozen=True)
class LabelDP:
    """Clip-and-noise of δ with a noise multiplier z and the accountant that prices it.

    Built from the job's [privacy] table by `from_spec`: z calibrated to the target
    (ε, δ) over the job's epochs, or the expert's `noise_multiplier` as given.
    """

    clip: float
    """C: bound on the L2 norm of each example's gradient ∂ℓ_i/∂z_i."""
    noise_multiplier: float
    """z: noise std / L2 sensitivity; the std per entry of B·δ̃ is z·2C."""
    target_delta: float
    """The δ every ε is reported at."""
    target_epsilon: float | None
    """The ε z was calibrated to; None when z was set by hand."""
    epochs: int
    """The epochs z was calibrated for (train.epochs)."""
    accountant: LabelDpAccountant

    @staticmethod
    def from_spec(privacy: PrivacySpec, epochs: int) -> LabelDP | None:
        """The job's label-DP, or None when [privacy] does not ask for it."""
        if not privacy.label_dp:
            return None
        # dp-accounting takes about a second to import: only jobs with label-DP pay it.
        from vfl.privacy.accountant import LabelDpAccountant  # noqa: PLC0415

        delta = privacy.label_dp_delta
        if privacy.label_dp_epsilon is not None:
            accountant, z = LabelDpAccountant.calibrated(privacy.label_dp_epsilon, delta, epochs)
        else:
            assert privacy.noise_multiplier is not None  # privacy.label_dp
            z = privacy.noise_multiplier
            accountant = LabelDpAccountant.for_noise(z, epochs, delta)
        return LabelDP(privacy.clip, z, delta, privacy.label_dp_epsilon, epochs, accountant)

    def perturb(
        self, delta: NDArray[np.floating[Any]], rng: np.random.Generator
    ) -> NDArray[np.float64]:
        """δ̃ for one batch. `delta` is ∂loss/∂z of the batch-mean loss, so row i times B is
        example i's own gradient: that row is clipped to L2 ≤ C (a bound that does not
        depend on the batch size, as in DP-SGD), N(0, (2Cz)²) is added to every entry, and
        the result is divided by B again."""
        rows = delta.shape[0]
        if rows == 0:
            return np.zeros(delta.shape)
        per_example = delta.astype(np.float64) * rows
        norms = np.linalg.norm(per_example, axis=1, keepdims=True)
        scale = np.minimum(1.0, self.clip / np.maximum(norms, np.finfo(np.float64).tiny))
        noise = rng.normal(0.0, 2.0 * self.clip * self.noise_multiplier, delta.shape)
        released: NDArray[np.float64] = (per_example * scale + noise) / rows
        return released

    def release(
        self, delta: NDArray[np.floating[Any]], secret: PartySecret, scope: str
    ) -> NDArray[np.float64]:
        """`perturb` with the noise of batch `scope`, from the label holder's `secret`
        (loaded once per phase by the caller, not per batch)."""
        return self.perturb(delta, batch_generator(secret, scope))

    def epsilon(self, epochs_done: int) -> float:
        """ε spent against each feature holder after `epochs_done` epochs, at `target_delta`."""
        return self.accountant.epsilon(self.noise_multiplier, epochs_done)

    def report(self, feature_holders: Iterable[str], epochs_done: int) -> PrivacyReport:
        """The event the label holder reports when training ends."""
        spent = self.epsilon(epochs_done)
        return PrivacyReport(
            target_epsilon=self.target_epsilon,
            delta=self.target_delta,
            clip=self.clip,
            noise_multiplier=self.noise_multiplier,
            epochs=epochs_done,
            epsilon={name: spent for name in feature_holders},
        )
