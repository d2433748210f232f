"""Label-DP accounting: the noise a target (ε, δ) needs, and the ε a noise level spends.

The accounting is dp-accounting's (Google's maintained library), never ours: its privacy
loss distribution (PLD) accountant, which is tight for Gaussian mechanisms.

The mechanism accounted (docs/privacy.md, Label-DP):

- **Adjacency: replace one label.** Two training sets are neighbours if they differ in one
  row's label; features, row order and the batch schedule are the same.
- **One release per epoch.** Within an epoch the batches are disjoint, so a label enters
  exactly one batch's cut-layer gradient δ (B×u, row i depends on label i only). Each row
  of B·δ, example i's own gradient ∂ℓ_i/∂z_i, is clipped to L2 norm C, so replacing
  one label moves one row by at most 2C: the L2 sensitivity is 2C. Gaussian noise of
  std z·2C per entry makes each batch release a Gaussian mechanism with noise multiplier z
  (std / sensitivity); other batches of the epoch do not see the label (parallel
  composition).
- **E epochs** are the E-fold composition of that Gaussian mechanism.

dp-accounting's `GaussianDpEvent` takes std / C (C the per-example bound) and, under
`REPLACE_ONE`, itself accounts for the 2C shift of a replaced example: the event for our z
is `GaussianDpEvent(2z)`.

What this does NOT cover: the label holder's own bottom, interactive and top layers train
on the exact labels, and so does W_p (the slice of the interactive layer a feature holder's
gradient is multiplied by). What a feature holder sees at step t, δ̃_t·W_tᵀ, therefore
depends on exact labels of earlier batches through W_t and the model state δ_t is computed
at: it is not pure post-processing of the earlier noisy releases, and the ε reported holds
for the releases given the model trajectory, not for the trajectory itself. Metrics the
label holder reports (AUC, losses) are outside the mechanism too.
"""

from __future__ import annotations

import math

import dp_accounting
from dp_accounting.pld import PLDAccountant
from dp_accounting.rdp import RdpAccountant

REPLACE_ONE = dp_accounting.NeighboringRelation.REPLACE_ONE

_FINE_INTERVAL = 1e-3
"""PLD discretization of the privacy loss up to ε ≈ 10; pessimistic, so ε is never
under-reported. Coarser above, in proportion to ε (see `_interval`)."""


def _event(noise_multiplier: float, epochs: int) -> dp_accounting.DpEvent:
    """E epochs of one Gaussian release per label (std = noise_multiplier · 2C)."""
    return dp_accounting.SelfComposedDpEvent(
        dp_accounting.GaussianDpEvent(2.0 * noise_multiplier), epochs
    )


def _interval(epsilon_scale: float) -> float:
    """The PLD grid for an ε of about `epsilon_scale`: its cost grows with ε / interval,
    so a fixed 1e-3 would take minutes (and gigabytes) at ε ≈ 1000."""
    return _FINE_INTERVAL * max(1.0, epsilon_scale / 10.0)


def _accountant(interval: float) -> PLDAccountant:
    return PLDAccountant(REPLACE_ONE, value_discretization_interval=interval)


class LabelDpAccountant:
    """ε spent by the label-DP mechanism above, with one fixed PLD grid.

    `calibrated` and `for_noise` pick the grid from the ε in play, and the same accountant
    then reports every ε: the ε reported for the calibrated noise multiplier is the one
    the calibration checked against its target.
    """

    def __init__(self, delta: float, interval: float) -> None:
        self.delta = delta
        self.interval = interval

    @staticmethod
    def for_noise(noise_multiplier: float, epochs: int, delta: float) -> LabelDpAccountant:
        """The accountant for a noise multiplier set by hand (the expert knob)."""
        rough = RdpAccountant(neighboring_relation=REPLACE_ONE)  # fast, a little loose
        scale = float(rough.compose(_event(noise_multiplier, epochs)).get_epsilon(delta))
        return LabelDpAccountant(delta, _interval(scale))

    @staticmethod
    def calibrated(epsilon: float, delta: float, epochs: int) -> tuple[LabelDpAccountant, float]:
        """The accountant and the smallest noise multiplier z whose ε after `epochs` is at
        most `epsilon` (within 1e-4 relative of the optimum)."""
        accountant = LabelDpAccountant(delta, _interval(epsilon))
        # A composition of E Gaussians is a Gaussian of √E times the std: dp-accounting's
        # analytic single-release σ gives the bracket; the PLD accountant decides within it.
        guess = float(dp_accounting.get_sigma_gaussian(epsilon, delta)) * math.sqrt(epochs)
        z = float(
            dp_accounting.calibrate_dp_mechanism(
                lambda: _accountant(accountant.interval),
                lambda z: _event(z, epochs),
                epsilon,
                delta,
                bracket_interval=dp_accounting.ExplicitBracketInterval(guess / 2, guess * 2),
                tol=guess * 1e-4,
            )
        )
        return accountant, z

    def epsilon(self, noise_multiplier: float, epochs: int) -> float:
        """ε spent after `epochs` epochs at this δ (0 before the first)."""
        if epochs <= 0:
            return 0.0
        spent = _accountant(self.interval).compose(_event(noise_multiplier, epochs))
        return float(spent.get_epsilon(self.delta))
