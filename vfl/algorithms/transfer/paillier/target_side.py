"""B's end (the target: u_B = Net_B(x_B), no labels): its head gradient, never u_A or y.

B encrypts its rows u_Bᵢ and S = U_BᵀU_B under its own key for A, and computes its own
cross gradient X_B = H̃_BᵀQ + K·M on A's ciphertexts of Q_i = −½ y_i Φ − 2γ u_Aᵢ and
M = ¼ΦΦᵀ, with its plaintext scalars h̃_Bᵢ and K = H̃_BᵀU_B. This is ∂L/∂W̃_B minus the
term 2γK that B computes alone.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vfl.algorithms.transfer.paillier.bounds import H_BITS, U_BITS, k_bits, s_bits
from vfl.algorithms.transfer.paillier.exchange_side import (
    ExchangeSide,
    HeadGradient,
    Wire,
    with_bias,
)
from vfl.algorithms.transfer.paillier.messages import (
    MaskedSourceGradient,
    MaskedTargetGradient,
    OpenedSourceGradient,
    OpenedTargetGradient,
    SourceTerms,
    TargetTerms,
)
from vfl.errors import DataValidationError
from vfl.runtime.context import PartyContext

_WIRE = Wire(
    TargetTerms,
    SourceTerms,
    MaskedTargetGradient,
    MaskedSourceGradient,
    OpenedSourceGradient,
    OpenedTargetGradient,
)


class TargetSide(ExchangeSide):
    """The target's end of the exchange with one source (see the package docstring)."""

    role = "target"

    def exchange(
        self, ctx: PartyContext, h: NDArray[np.floating], u: NDArray[np.floating]
    ) -> HeadGradient:
        """One batch: B's head gradient of Σℓ + γΣ‖u_A − u_B‖² (L2 excluded).

        h: m × p inputs of B's head (u = h·W + b); u: m × d, B's representations, rows in
        the order A uses. `ctx` is the batch's scope, the same as A's."""
        h64, u64 = np.asarray(h, dtype=np.float64), np.asarray(u, dtype=np.float64)
        rows = u64.shape[0]
        if u64.shape != (rows, self.width) or h64.ndim != 2 or h64.shape[0] != rows:
            raise DataValidationError(
                f"transfer_paillier target: h {h64.shape} and u {u64.shape} must be m×p and "
                f"m×{self.width}"
            )
        self._check_rows(rows, h64.shape[1])
        ht = with_bias(h64)
        k = ht.T @ u64
        own = (
            self.encode_fixed(u64, U_BITS, "representations u_B"),
            self.encode_fixed(u64.T @ u64, s_bits(rows), "U_BᵀU_B"),
        )
        scalars = np.hstack(
            [
                self.encode_fixed(ht, H_BITS, "head inputs h_B").T,
                self.encode_fixed(k, k_bits(rows), "H̃_BᵀU_B"),
            ]
        )
        cross = self._rounds(ctx, own, scalars, rows, _WIRE)
        grad = cross + 2 * self.gamma * k
        return HeadGradient(grad[:-1], grad[-1])
