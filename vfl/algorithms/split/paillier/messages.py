"""Messages of split learning with `protection = "paillier"` (Zhang et al., arXiv 2007.06849).

For each feature holder F (key pair pk_F/sk_F, accumulated noise acc, d×u) and the label
holder L (V = W − acc, L's share of F's interactive weights W, which nobody holds).
[[x]] is encryption under pk_F; every message goes through the coordinator, which holds no
key. e1, e2 are uniform in Z_n (one per packed plaintext; with `he_scheme = "ou"`,
statistical masks 2^b + U[0, 2^(b+41)) over the packed value's b bits, vfl/crypto/ou_engine.py,
and F decrypts only within the resulting bound); ε is F's gradient mask. Nobody
holds W, from the first step: W₀ = V₀ + acc₀ with acc₀ uniform and wide (layouts.py).

    F                                              L
    |-- PaillierKey pk_F (once per phase) -------->|  L refuses keys under 2048 bits
    |<------- InteractiveWidth u (once per phase) -|
    |<------- split.InteractiveShape (train) ------|  shares of W₀ = W_L + W_F:
    |-- InitialShare M = W_F − acc₀ (train) ------>|  L: V₀ = W_L + M; F: acc = acc₀
    |-- EncryptedActivations [[a]] (batch) ------->|  F1
    |-- EncryptedBackwardInputs [[a]] (rows), ---->|  F1b, training only; acc as it is
    |       [[acc]] (acc layout)                   |      before this batch's update
    |<------- MaskedProduct [[a·V + e1]] ----------|  F2
    |-- UnmaskedProduct a·V + e1 + a·acc --------->|  F3: L removes e1 → z_F = a·W
    |                                              |  L: top model, loss, δ = ∂loss/∂z_F
    |<------- EncryptedGradients [[aᵀδ + e2]], ----|  B1 (and B4 unless F's bottom is the
    |          [[δ·Wᵀ (+ N(0,σ²))]]                |      identity: presets skip it)
    |-- MaskedWeightGradient aᵀδ + e2 + ε -------->|  B2: L removes e2, V ← V − η(aᵀδ + ε);
    |                                              |      F: acc ← acc + η·ε (with momentum:
    |                                              |      each side's velocity share instead)
Forward-only passes (validation, evaluate) stop after F3. Then V + acc = W − η·aᵀδ: plain
SGD on W. Momentum is linear in the gradient, so with `train.momentum` each side also keeps
a share of the velocity, L's of aᵀδ + ε and F's of ε, and steps V and acc by it
(share_momentum.py; no extra message, nothing new seen by either side): SGD with momentum
(or Nesterov) on W. Adam is not linear (it needs the unmasked gradient), so the
interactive layer of a Paillier-protected party trains by SGD with `train.momentum`
whatever `train.optimizer` says; with Adam and momentum > 0 the plain mode trains its
slices the same way, so both compute one function (label_optimizer.py, docs/paillier.md).

Layouts (vfl/algorithms/split/paillier/layouts.py): F1/F2 pack along the batch (one
ciphertext per cut-layer column and group of rows: a scalar V[k,j] multiplies every slot
alike); F1b's rows pack along features (one per row: δ[i,j] scales a whole row); the acc
layout packs p shifted copies of each column of acc so B4 packs p rows per ciphertext.
Every ciphertext leaving its key holder is fresh (F) or re-randomised by multiplying in a
fresh encryption (L), so neither side can link a ciphertext to an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfl.protocol.content import Content
from vfl.protocol.serde import message
from vfl.protocol.types import EncryptedTensor


@message("split_paillier.PaillierKey", Content.PUBLIC_KEY)
@dataclass(frozen=True)
class PaillierKey:
    """F → L. F's public modulus n and DJN base hs = h^n mod n². Public: reveals nothing."""

    n: bytes
    hs: bytes


@message("split_paillier.OuKey", Content.PUBLIC_KEY)
@dataclass(frozen=True)
class OuKey:
    """F → L with `train.he_scheme = "ou"`, in place of PaillierKey: F's Okamoto–Uchiyama
    modulus n = p²q, bases G and H, and the key size k (plaintext_bits = ⌈k/3⌉, so the
    layouts follow from it). Public: reveals nothing. L refuses k below the spec's key_bits,
    which the spec holds to ≥ 3072 for OU (docs/paillier.md, "OU's security")."""

    n: bytes
    g: bytes
    h: bytes
    key_bits: int


@message("split_paillier.InteractiveWidth", Content.PLAIN)
@dataclass(frozen=True)
class InteractiveWidth:
    """L → F. The interactive layer's width u (the class count for presets). Public."""

    u: int


@message("split_paillier.InitialShare", Content.MASKED)
@dataclass(frozen=True)
class InitialShare:
    """F → L, once per training phase: M = W_F − acc₀ (d×u integers at scale 2^f, signed,
    WIDE_BYTES each, row-major), so that L's V₀ = W_L + M and V₀ + acc₀ = W_L + W_F = W₀.

    Leakage: acc₀ is uniform on [−2^k, 2^k) with k = acc0_bits(f), drawn from F's party
    secret, so M is within statistical distance 2^-40 per entry of a value independent of
    W_F: L learns nothing of W_F, hence of W₀ beyond its own half W_L. Attack that checks
    it: tests/unit/split_paillier/test_reconstruction_attack.py (L inverts z_F = a·W₀ with
    its best estimate of W₀; exact when acc₀ = 0, ~100 % error by default).
    """

    values: bytes


@message("split_paillier.EncryptedActivations", Content.PAILLIER)
@dataclass(frozen=True)
class EncryptedActivations:
    """F → L, F1: [[a]] along the batch. Only F can decrypt; L and the relay learn sizes."""

    values: EncryptedTensor


@message("split_paillier.EncryptedBackwardInputs", Content.PAILLIER)
@dataclass(frozen=True)
class EncryptedBackwardInputs:
    """F → L, F1b: [[a]] along features and [[acc]]. Only F can decrypt; reveals sizes."""

    rows: EncryptedTensor
    acc: EncryptedTensor


@message("split_paillier.MaskedProduct", Content.MASKED)  # F opens it: a uniform residue
@dataclass(frozen=True)
class MaskedProduct:
    """L → F, F2: [[a·V + e1]]. F decrypts a uniform element of Z_n: learns nothing of V.

    Re-randomised by L with an owner-hiding obfuscator (a product of L's 84 secret
    uniform n-th residues to fresh 26-bit powers, within 2^-41 of a uniform n-th residue;
    vfl/crypto/owner_hiding.py), not the DJN base hs that F chose: F knows the
    factorisation, so only that makes the ciphertext independent of the product's
    randomness Π r_k^V[k,j], which would otherwise carry V (docs/paillier.md; attack:
    tests/unit/crypto/test_owner_hiding.py). Wire test: test_paillier_wire.py recomputes
    L's homomorphic product and checks the ciphertext sent differs from it."""

    values: EncryptedTensor


@message("split_paillier.UnmaskedProduct", Content.PLAIN)
@dataclass(frozen=True)
class UnmaskedProduct:
    """F → L, F3: a·V + e1 + a·acc mod n, in the clear (`count` values of n's width).

    L removes e1 and learns z_F = a·W, F's contribution to the interactive layer, as in
    any split model; not a, not W (it knows V only). The relay sees uniform residues.
    Attack: the reconstruction test above (a = z_F·W⁻¹ needs W, which L does not hold).
    """

    count: int
    values: bytes


@message("split_paillier.EncryptedGradients", Content.PLAIN)  # F opens δ·Wᵀ, by design
@dataclass(frozen=True)
class EncryptedGradients:
    """L → F, B1 + B4: [[aᵀδ + e2]] and [[δ·Wᵀ]] (`input_grad` empty for presets).

    F decrypts a uniform residue for B1 (nothing of δ) and δ·Wᵀ for B4: the gradient it
    needs to train its bottom model, which carries label signal; with label-DP, δ̃·Wᵀ
    (docs/privacy.md).
    """

    weight_grad: EncryptedTensor
    input_grad: EncryptedTensor


@message("split_paillier.MaskedWeightGradient", Content.MASKED)
@dataclass(frozen=True)
class MaskedWeightGradient:
    """F → L, B2: aᵀδ + e2 + ε mod n. L removes e2 and learns aᵀδ + ε, hidden by ε.

    ε is uniform on [−2^k, 2^k) at scale 2^2f with k = eps_bits(f, B) (layouts.py): within
    statistical distance 2^-40 per entry of a value independent of aᵀδ."""

    count: int
    values: bytes
