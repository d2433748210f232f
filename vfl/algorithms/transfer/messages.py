"""Messages of federated transfer learning (FTL, Liu et al. 2020) with `protection = "none"`.

The source S holds labels y and features x_A; the target T holds features x_B and no
labels. Both hold the aligned (overlap) rows in the order PSI agreed; the validation split
and every epoch's batches come from the job seed (`BatchSchedule`), so no row index is
ever sent. T's rows outside the intersection never enter any message.

    T (target)                                  S (source)
    |-- TransferHello(rows, width) ------------->|  each of train/evaluate (scope step=hello)
    |                                            |
    |   train, per batch (scope epoch=e/batch=b):|
    |-- Representations u_B = Net_B(x_B) ------->|  u_A = Net_A(x_A); Φ = Ỹᵀu_A / n
    |                                            |  L = ℓ(y, u_B·Φᵀ) + γ·mean‖u_A − u_B‖²
    |<-- RepresentationGradient ∂L/∂u_B ---------|  S steps k = local_rounds times (u_B kept)
    |   T steps k times along the same ∂L/∂u_B   |
    |                                            |
    |   validation (per epoch) and evaluate:     |
    |-- Representations u_B (forward only) ----->|  scores u_B·Φᵀ → metrics at S
    |                                            |
    |   predict (scope step=summary):            |
    |<-- ClassSummary Φ, classes ----------------|  T scores its rows outside the
    |                                            |  intersection alone; nothing returns

With `protection = "paillier"` (encrypted.py) each train batch is the exchange of
paillier/messages.py instead: the encrypted components of the Taylor-expanded loss, each
party's head gradient masked before the other decrypts it; no u_B, no ∂L/∂u_B, no loss
crosses in the clear (its leakage table: docs/transfer_paillier.md). Validation and
evaluate scoring run the other way round, because S must not see u_B:

    |<-- ScoringSummary Φ (scope split=…) -------|  Φ over S's training rows, this epoch
    |-- Scores s = u_B·Φᵀ per row -------------->|  (per EVAL_BATCH chunk) → metrics at S

Hello and ClassSummary (predict) are the same under both protections: predict sends Φ in
the clear, as under none.

Who reads what under paillier, beyond the exchange's own table:
- S learns one score φ_i = Φ·u_B,i per validation row each epoch (and per train and
  validation row in evaluate): the model's logit, what a label holder needs for metrics
  (vertical split gives its label holder the same). With Φ known to S it is the length of
  u_B,i along Φ: one of d coordinates, not u_B,i.
- T learns Φ each epoch (validation) and in evaluate and predict: the d numbers it scores
  with. A sequence of Φ over epochs tells T how S's label-weighted mean moves, nothing per
  row. With its own u_B, T can score the overlap rows and so infer their labels as well as
  the model can (as under none, and the purpose of the product).
- Not leaked under paillier, unlike none: u_B per row to S, ∂L/∂u_B (labels, u_A) per row
  to T, the training loss (S reports validation metrics only).

Who reads what (beyond kinds, sizes and timing, which the coordinator sees for every
envelope; bodies are sealed end to end between the two parties):
- S learns u_B of every overlap row it trains on or scores: T's representation, a
  learned function of x_B. With Net_B's architecture public (the spec), a curious S may
  try to invert it; plaintext protection is for parties that trust each other.
- T learns ∂L/∂u_B per overlap row: (p_i − y_i)·Φ/n + 2γ(u_B,i − u_A,i)/n. Its label
  term's sign is the row's label (up to the model's error) and its alignment term gives
  u_A,i: plaintext FTL reveals the overlap labels and S's representations to T.
- T learns Φ in predict (the product's purpose: T scores its own rows). Φ is one
  label-weighted mean of S's representations per class (K×d numbers); with its own u_B,
  T can score the overlap rows too, i.e. infer their labels as well as the model can.
- Neither party sends anything about T's rows outside the intersection in these phases:
  no envelope carries them. Align's PSI reveals T's set size to S, hence how many rows
  T scores, unless `align.pad_target_to` pads T's set to the bound the spec states
  (psi/padding.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from vfl.protocol.content import Content
from vfl.protocol.serde import message
from vfl.protocol.types import TensorSpec

F32Matrix = Annotated[np.ndarray, TensorSpec("float32", ndim=2)]
F64Vector = Annotated[np.ndarray, TensorSpec("float64", ndim=1)]

HELLO_STEP = "hello"
"""The scope of TransferHello, once per train and evaluate phase."""
SUMMARY_STEP = "summary"
"""The scope of ClassSummary, once per predict phase."""


@message("transfer.TransferHello", Content.PLAIN)
@dataclass(frozen=True)
class TransferHello:
    """T → S. T's aligned row count (S knows it: the same intersection) and the width of
    its representation (public: the spec's representation_width). S checks both."""

    rows: int
    width: int


@message("transfer.Representations", Content.PLAIN)
@dataclass(frozen=True)
class Representations:
    """T → S (plain), one batch of u_B = Net_B(x_B) (B×d). S learns u_B itself."""

    values: F32Matrix


@message("transfer.RepresentationGradient", Content.PLAIN)
@dataclass(frozen=True)
class RepresentationGradient:
    """S → T (plain), ∂L/∂u_B for the same batch (B×d). T learns a label-carrying term
    per row and, with γ > 0, S's representation u_A of that row (see above)."""

    values: F32Matrix


@message("transfer.ClassSummary", Content.PLAIN)
@dataclass(frozen=True)
class ClassSummary:
    """S → T in predict. Φ (K×d: K = 1 for binary with ±1 labels, one row per class for
    multiclass) and the class values (binary: 0, 1). Reveals S's class summary, what T
    needs to score its own rows; nothing of any single source row beyond that mean."""

    summary: F32Matrix
    classes: F64Vector


@message("transfer.ScoringSummary", Content.PLAIN)
@dataclass(frozen=True)
class ScoringSummary:
    """S → T (paillier), before T scores validation or evaluate rows: Φ (K×d, K = 1),
    over S's training rows with the current Net_A. Reveals what ClassSummary does."""

    summary: F32Matrix


@message("transfer.Scores", Content.PLAIN)
@dataclass(frozen=True)
class Scores:
    """T → S (paillier), one chunk of scores u_B·Φᵀ (rows×K) for the rows S scores. S
    learns each row's logit (for its metrics), not u_B."""

    values: F32Matrix
