"""A's end (the source: labels y, u_A = Net_A(x_A)): its head gradient, never u_B per row.

A encrypts Q_i = −½ y_i Φ − 2γ u_Aᵢ and M = ¼ΦΦᵀ under its own key for B, and computes its
own cross gradient X_A = Σ_i α_i u_Bᵢᵀ + β·S on B's ciphertexts of u_B and S = U_BᵀU_B,
with its plaintext scalars α_i = −2γ h̃_Aᵢ − ½ y_i v and β = ¼vΦᵀ (v = ∂Φ/∂W̃_A). This is
∂L/∂W̃_A minus the term 2γH̃_AᵀU_A that A computes alone: the alignment term's cross part
and the whole Φ path (∂Φ/∂W̃_A = v, ∂L/∂Φ = Σ_i c_i u_Bᵢ) folded into one aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vfl.algorithms.transfer.paillier.bounds import (
    ALPHA_BITS,
    BETA_BITS,
    M_BITS,
    Q_BITS,
    U_BITS,
)
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
    SourceTerms,
    TargetTerms,
    MaskedSourceGradient,
    MaskedTargetGradient,
    OpenedTargetGradient,
    OpenedSourceGradient,
)


@dataclass(frozen=True)
class ClassSummary:
    """Φ and what it is made of: Φ = Σ_i w_i u_Aᵢ over the rows A chooses (w_i = y_i/N_A on
    its labelled rows; the batch's or all of them), so with heads u = h·W̃ (h̃ = [h, 1])
    Φ = vᵀW̃_A with v = Σ_i w_i h̃_Aᵢ: `inputs` is v, ∂Φ/∂W̃_A. Both are A's own."""

    phi: NDArray[np.float64]
    """Φ, d values."""
    inputs: NDArray[np.float64]
    """v = Σ_i w_i h̃_Aᵢ, p + 1 values (the last one Σ_i w_i, the bias's)."""

    @staticmethod
    def of_rows(
        h: NDArray[np.floating], u: NDArray[np.floating], weights: NDArray[np.floating]
    ) -> ClassSummary:
        """Φ over the given rows (h, u as for `exchange`; weights w_i per row)."""
        w = np.asarray(weights, dtype=np.float64).ravel()
        return ClassSummary(
            w @ np.asarray(u, dtype=np.float64), with_bias(np.asarray(h, dtype=np.float64)).T @ w
        )


class SourceSide(ExchangeSide):
    """The source's end of the exchange with one target (see the package docstring)."""

    role = "source"

    def exchange(
        self,
        ctx: PartyContext,
        h: NDArray[np.floating],
        u: NDArray[np.floating],
        labels: NDArray[np.floating],
        summary: ClassSummary,
    ) -> HeadGradient:
        """One batch: A's head gradient of Σℓ + γΣ‖u_A − u_B‖² (L2 excluded).

        h: m × p inputs of A's head (u = h·W + b); u: m × d, A's representations; labels:
        m values in {−1, +1}; summary: Φ and ∂Φ/∂W̃ (`ClassSummary.of_rows(h, u, y/m)`
        for Φ over the batch; over all of A's labelled rows, as the paper, otherwise).
        Rows are the batch's overlap rows, in the order B uses. `ctx` is the batch's scope
        (`ctx.scoped(epoch=e, batch=b)`)."""
        h64, u64 = np.asarray(h, dtype=np.float64), np.asarray(u, dtype=np.float64)
        y = np.asarray(labels, dtype=np.float64).ravel()
        rows = u64.shape[0]
        if u64.shape != (rows, self.width) or h64.ndim != 2 or h64.shape[0] != rows:
            raise DataValidationError(
                f"transfer_paillier source: h {h64.shape} and u {u64.shape} must be m×p and "
                f"m×{self.width}"
            )
        if y.shape != (rows,) or not np.all(np.abs(y) == 1):
            raise DataValidationError(
                "transfer_paillier source: labels must be m values in {−1, +1}"
            )
        phi, v = summary.phi, summary.inputs
        if phi.shape != (self.width,) or v.shape != (h64.shape[1] + 1,):
            raise DataValidationError(
                f"transfer_paillier source: ClassSummary phi {phi.shape} and inputs "
                f"{v.shape} must have {self.width} and {h64.shape[1] + 1} values"
            )
        self._check_rows(rows, h64.shape[1])
        self.encode_fixed(u64, U_BITS, "representations u_A")  # bound check only
        self.encode_fixed(phi, U_BITS, "Φ")
        gamma = self.gamma
        ht = with_bias(h64)
        q = -0.5 * y[:, None] * phi[None, :] - 2 * gamma * u64
        m = 0.25 * np.outer(phi, phi)
        alpha = -2 * gamma * ht - 0.5 * y[:, None] * v[None, :]
        beta = 0.25 * np.outer(v, phi)
        own = (self.encode_fixed(q, Q_BITS, "Q"), self.encode_fixed(m, M_BITS, "¼ΦΦᵀ"))
        scalars = np.hstack(
            [self.encode_fixed(alpha, ALPHA_BITS, "α").T, self.encode_fixed(beta, BETA_BITS, "β")]
        )
        cross = self._rounds(ctx, own, scalars, rows, _WIRE)
        grad = cross + 2 * gamma * (ht.T @ u64)
        return HeadGradient(grad[:-1], grad[-1])
