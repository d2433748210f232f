"""SGD with momentum on additive shares of the interactive weights' gradient.

Nobody holds W = V + acc, nor its gradient g = aᵀδ: L learns g + ε and F knows ε (B2,
messages.py). Momentum is linear in the gradient, so each side keeps a share of the
velocity and updates it from its own share of the gradient, with no message:

    L: v_L ← μ·v_L + (g + ε)          F: v_ε ← μ·v_ε + ε
       V   ← V − η·d_L                    acc ← acc + η·d_ε
    d = v (heavy ball) or g + μ·v (Nesterov, with the new v), per side.

Then v_L − v_ε is the velocity of plain SGD with momentum (torch.optim.SGD, dampening 0)
and V + acc = W − η·(d_L − d_ε) is its step. Velocities are exact integers at scale 2^2f
like the gradient they sum; μ·v rounds once per side and step (half up, μ as the exact
binary fraction of the configured float), ≤ one unit of 2^-2f each. F's velocity is
kept as that of +ε (not −ε) so that μ = 0 gives F's update of plain SGD bit for bit.

What this changes in the bounds (docs/paillier.md, "Momentum on the shares"): nothing a
peer sees changes (L still sees g + ε per step, F nothing new), so every mask width
stands; the shares grow by at most 1/(1 − μ), well inside WIDE_BYTES and checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from vfl.algorithms.split.paillier.shares import Shares, check_wide
from vfl.errors import CryptoError


@dataclass(frozen=True)
class ShareMomentum:
    """One side's momentum rule: μ (0 = plain SGD) and whether Nesterov's form is used."""

    momentum: float = 0.0
    nesterov: bool = False

    @property
    def active(self) -> bool:
        return self.momentum > 0

    def zeros(self, shape: tuple[int, int]) -> Shares | None:
        """The velocity share a fresh training run starts from (None without momentum)."""
        return np.zeros(shape, dtype=object) if self.active else None

    def direction(
        self, velocity: Shares | None, grad: Shares, what: str
    ) -> tuple[Shares | None, Shares]:
        """(new velocity share, this step's direction share), both at grad's scale 2^2f."""
        if velocity is None:
            if self.active:
                raise CryptoError(
                    f"{what}: train.momentum = {self.momentum} but no velocity share was "
                    "started or found in the checkpoint; start the job again"
                )
            return None, grad
        updated = check_wide(self._times_mu(velocity) + grad, what)
        return updated, (grad + self._times_mu(updated) if self.nesterov else updated)

    def _times_mu(self, values: Shares) -> Shares:
        num, den = Fraction(self.momentum).as_integer_ratio()
        out = [(2 * num * int(x) + den) // (2 * den) for x in values.ravel()]
        return np.array(out, dtype=object).reshape(values.shape)
