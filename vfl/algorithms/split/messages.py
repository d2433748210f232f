"""Messages of vertical split learning with `protection = "none"`.

One batch, for each feature holder F and the label holder L (rows and batches come from
the schedule every party derives from the job seed, so no row index is ever sent):

    F                                   L
    |-- TrainHello(rows, width) ------->|   once per train/evaluate phase (scope step=hello)
    |   (paillier: key handshake)       |   once per phase (scope step=exchange)
    |                                   |
    |-- Activations a = bottom_F(x) --->|   z = Σ_p a_p·W_p + a_L·W_L + b → top → loss
    |<-- CutGradient ∂loss/∂a ----------|   L steps its optimizer, F back-propagates
    |                                   |
    |-- Activations (validation rows) ->|   forward only, per epoch and in evaluate

Plaintext protection is for parties that trust each other, and the baseline: L sees F's
cut-layer activations; F sees the gradient of the loss with respect to them. The
`paillier` protection replaces the middle exchange with encrypted messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from vfl.protocol.serde import message
from vfl.protocol.types import TensorSpec

F32Matrix = Annotated[np.ndarray, TensorSpec("float32", ndim=2)]

EXCHANGE_STEP = "exchange"
"""The scope of the once-per-phase exchange set-up (Paillier: the key handshake). Fixed,
not the first batch's: a program restarted mid-phase repeats it under the same seqs."""


@message("split.TrainHello")
@dataclass(frozen=True)
class TrainHello:
    """F → L. Reveals F's aligned row count (L knows it already) and its cut-layer width."""

    rows: int
    width: int


@message("split.Activations")
@dataclass(frozen=True)
class Activations:
    """F → L, plaintext cut-layer output for one batch (B×d). L learns `a` itself."""

    values: F32Matrix


@message("split.CutGradient")
@dataclass(frozen=True)
class CutGradient:
    """L → F, ∂loss/∂a for the same batch (B×d). F learns δ·W_Fᵀ, which carries label signal."""

    values: F32Matrix
