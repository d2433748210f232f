"""Messages of vertical split learning with `protection = "none"`.

One batch, for each feature holder F and the label holder L (rows and batches come from
the schedule every party derives from the job seed, so no row index is ever sent):

    F                                   L
    |-- TrainHello(rows, width) ------->|   once per train/evaluate phase (scope step=hello)
    |   (paillier: key handshake)       |   once per phase (scope step=exchange)
    |<-- InteractiveShape(u, fan_in) ---|   train only (scope step=init): W_p starts as
    |-- InteractiveShare W_F ---------->|   W_L + W_F, halves drawn from each party's
    |   (paillier: InitialShare)        |   secret (initial_weights.py)
    |                                   |
    |-- Activations a = bottom_F(x) --->|   z = Σ_p a_p·W_p + a_L·W_L + b → top → loss
    |<-- CutGradient ∂loss/∂a ----------|   L steps its optimizer, F back-propagates
    |                                   |
    |-- Activations (validation rows) ->|   forward only, per epoch and in evaluate

A prediction job (`[predict]`, docs/predict.md) runs the evaluate exchange above on the
newly aligned rows, chunk by chunk (scope chunk=k/batch=b): TrainHello, the Paillier key
handshake, then Activations (or their Paillier equivalent) per batch; with
`missing_party_rows = "impute"` one more one-row forward (scope step=impute) of the
feature holder's bottom model at its training mean. A feature holder thus receives
exactly what it receives in training's evaluate, unless it is `deliver_to`:

    F (deliver_to)                      L
    |<-- PredictScores (chunk k) -------|   after chunk k's forward (scope chunk=k/step=scores)

Plaintext protection is for parties that trust each other, and the baseline: L sees F's
cut-layer activations; F sees the gradient of the loss with respect to them. The
`paillier` protection replaces the middle exchange with encrypted messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from vfl.protocol.content import Content
from vfl.protocol.serde import message
from vfl.protocol.types import TensorSpec

F32Matrix = Annotated[np.ndarray, TensorSpec("float32", ndim=2)]

EXCHANGE_STEP = "exchange"
"""The scope of the once-per-phase exchange set-up (Paillier: the key handshake). Fixed,
not the first batch's: a program restarted mid-phase repeats it under the same seqs."""


@message("split.TrainHello", Content.PLAIN)
@dataclass(frozen=True)
class TrainHello:
    """F → L. Reveals F's aligned row count (L knows it already) and its cut-layer width."""

    rows: int
    width: int


INIT_STEP = "init"
"""The scope of the initial-weight exchange, once per training phase (fixed, like above)."""


@message("split.InteractiveShape", Content.PLAIN)
@dataclass(frozen=True)
class InteractiveShape:
    """L → F. The interactive layer's width u and fan-in (Σ cut widths): public, both
    follow from the spec and TrainHello. F draws its half W_F of its slice with them."""

    u: int
    fan_in: int


@message("split.InteractiveShare", Content.PLAIN)
@dataclass(frozen=True)
class InteractiveShare:
    """F → L (plain). F's half W_F (d×u) of its interactive slice W₀ = W_L + W_F.

    Reveals W_F to L, which holds W in the clear under `protection = "none"` anyway (and
    sees F's activations). Under Paillier F sends split_paillier.InitialShare instead."""

    values: F32Matrix


@message("split.Activations", Content.PLAIN)
@dataclass(frozen=True)
class Activations:
    """F → L, plaintext cut-layer output for one batch (B×d). L learns `a` itself."""

    values: F32Matrix


@message("split.CutGradient", Content.PLAIN)
@dataclass(frozen=True)
class CutGradient:
    """L → F, ∂loss/∂a for the same batch (B×d). F learns δ·W_Fᵀ, which carries label signal."""

    values: F32Matrix


F64Matrix = Annotated[np.ndarray, TensorSpec("float64", ndim=2)]
F64Vector = Annotated[np.ndarray, TensorSpec("float64", ndim=1)]


@message("split.PredictScores", Content.PLAIN)
@dataclass(frozen=True)
class PredictScores:
    """L → deliver_to (a feature holder named by `[predict] deliver_to`), one chunk of a
    prediction job's scores (rows × outputs: P(1), a probability per class, or the value)
    in the aligned order, for rows deliver_to holds. Leakage: the final scores of the
    shared rows, the job's output, to the party the spec names and to no other; nothing
    about the label holder's features, weights or labels beyond what the scores imply;
    `classes` are the label's class values, which name the delivered columns."""

    values: F64Matrix
    """rows × columns: binary P(1) and class; multiclass a probability per class and the
    class; regression the value (vfl/algorithms/split/predict_scores.py)."""
    classes: F64Vector
