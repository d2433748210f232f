"""The Paillier-protected exchange of federated transfer learning (Liu et al. 2020).

What a transfer train program calls, per batch of overlap rows, once per side:

    side = SourceSide(peer="target-party", keys=keypair, width=d, max_rows=batch_size,
                      alignment_weight=γ, precision_bits=16, workers=w)   # or TargetSide
    side.start(ctx.scoped(step="exchange"))        # once per phase: keys and width
    grad = side.exchange(ctx.scoped(epoch=e, batch=b), h, u, y, summary)   # source
    grad = side.exchange(ctx.scoped(epoch=e, batch=b), h, u)                   # target
    side.close()                                   # at the end of the phase

Each network ends in a linear head u = h·W + b; `h` (m × p) is the head's input, `u`
(m × d) its output, both plaintext at their owner. `grad` is a `HeadGradient`: the exact
∂L/∂W (p × d) and ∂L/∂b (d) of the Taylor loss L = Σ_i (log 2 − ½ y_i φ_i + ⅛ φ_i²) +
γ Σ_i ‖u_Aᵢ − u_Bᵢ‖², φ_i = Φ·u_Bᵢ, summed over the batch, up to the fixed-point
tolerance (bounds.cross_tolerance). `summary` (A's `ClassSummary`) is Φ = Σ_i w_i u_Aᵢ and
v = Σ_i w_i h̃_Aᵢ = ∂Φ/∂W̃_A over the rows A averages: `ClassSummary.of_rows(h, u, y/m)` for
the batch, or all of A's labelled rows (w_i = y_i/N_A) as in the paper; A's head gradient
then includes the Φ path through every one of them. L2 terms are local: add them yourself.
For torch: `head.weight.grad = torch.from_numpy(grad.weight.T)`, `head.bias.grad = ...`.

What it does *not* return: any per-row gradient ∂L/∂u. With the alignment term, the
per-row gradient of one side's representation contains the other side's representation
(2γ(u_A − u_B)), so nobody may decrypt it. Layers below the head therefore receive no
federated gradient under Paillier: train programs use linear representation networks
(hidden = [], h = the features) or keep the layers below the head fixed. Why, and what
leaks instead: docs/transfer_paillier.md.

Constraints the caller meets: both sides use the same rows in the same order and the same
scope per batch; m ≤ max_rows and m ≥ bounds.min_rows(p) (merge a short last batch);
inputs within the fixed-point bounds (bounds.py; CryptoError otherwise).
"""

from vfl.algorithms.transfer.paillier.exchange_side import HeadGradient
from vfl.algorithms.transfer.paillier.source_side import ClassSummary, SourceSide
from vfl.algorithms.transfer.paillier.target_side import TargetSide

__all__ = ["ClassSummary", "HeadGradient", "SourceSide", "TargetSide"]
