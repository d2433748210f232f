"""The same Taylor loss and head gradients in plain float64, in one process: the oracle.

Written from the per-row gradients (∂L/∂u_A at fixed Φ, ∂L/∂u_B, ∂L/∂Φ), not from the protocol's
decomposition into cross terms, so a test comparing the two checks that decomposition.
tests/unit/transfer_paillier checks this module against torch autograd too.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from vfl.algorithms.transfer.paillier.exchange_side import HeadGradient, with_bias
from vfl.algorithms.transfer.paillier.source_side import ClassSummary

F64 = NDArray[np.float64]


def taylor_loss(u_a: F64, labels: F64, phi: F64, u_b: F64, gamma: float) -> float:
    """Σ_i (log 2 − ½ y_i φ_i + ⅛ φ_i²) + γ Σ_i ‖u_Aᵢ − u_Bᵢ‖², φ_i = Φ·u_Bᵢ."""
    fi = u_b @ phi
    taylor = float(np.sum(math.log(2) - 0.5 * labels * fi + fi**2 / 8))
    return taylor + gamma * float(np.sum((u_a - u_b) ** 2))


def taylor_gradients(
    h_a: F64,
    u_a: F64,
    labels: F64,
    summary: ClassSummary,
    h_b: F64,
    u_b: F64,
    gamma: float,
) -> tuple[HeadGradient, HeadGradient]:
    """(A's, B's) head gradients of `taylor_loss`, heads u = h·W + b on both sides, Φ =
    vᵀW̃_A (summary.phi, summary.inputs = v): ∂L/∂W̃_A = H̃_Aᵀ ∂L/∂U_A|_Φ + v·(∂L/∂Φ)ᵀ."""
    phi, v = summary.phi, summary.inputs
    c = -0.5 * labels + 0.25 * (u_b @ phi)  # ∂ℓ_i/∂φ_i
    grad_u_b = c[:, None] * phi[None, :] + 2 * gamma * (u_b - u_a)
    grad_phi = (c[:, None] * u_b).sum(axis=0)
    ga = with_bias(h_a).T @ (2 * gamma * (u_a - u_b)) + np.outer(v, grad_phi)
    gb = with_bias(h_b).T @ grad_u_b
    return HeadGradient(ga[:-1], ga[-1]), HeadGradient(gb[:-1], gb[-1])
