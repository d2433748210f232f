"""Messages of federated transfer learning with `protection = "paillier"`, per batch.

Liu et al. 2020 (arXiv 1812.03337) with the Taylor loss ℓ(y, φ) ≈ log 2 − ½yφ + ⅛φ²,
φ_i = Φ·u_Bᵢ, L = Σ ℓ + γ Σ ‖u_Aᵢ − u_Bᵢ‖². Each side's network ends in a linear head
u = h·W + b (h̃ = [h, 1], W̃ = [W; b]); Φ = Σ_i w_i u_Aᵢ = vᵀW̃_A with v = Σ_i w_i h̃_Aᵢ
(w_i = y_i/N_A on the rows Φ averages: the batch's, or all of A's labelled rows).
A (source) holds y, h_A, u_A and key pair A; B (target) holds h_B, u_B and key pair B.
[[x]]_A is encryption under pk_A.
Each side's head gradient is a cross part X, which needs the peer's data, plus 2γH̃ᵀU,
which it computes alone:
  X_B = H̃_Bᵀ Q + K M,        Q_i = −½ y_i Φ − 2γ u_Aᵢ, M = ¼ΦΦᵀ (A's), K = H̃_BᵀU_B (B's)
  X_A = Σ_i α_i u_Bᵢᵀ + β S,  α_i = −2γ h̃_Aᵢ − ½ y_i v, β = ¼vΦᵀ (A's), S = U_BᵀU_B
Nobody decrypts a per-row quantity: each side decrypts only the peer's masked aggregate.

    A (source)                                        B (target)
    |-- TransferKey pk_A, d (once per phase) -------->|  each refuses keys under 2048 bits
    |<------------- TransferKey pk_B, d (once) -------|  and a different width d
    |-- SourceTerms [[Q_i]]_A, [[M]]_A -------------->|  round 1 (both at once)
    |<-------------- TargetTerms [[u_Bᵢ]]_B, [[S]]_B -|
    |  A: [[X_A + R_A]]_B = Π[[u_Bᵢ]]^α·Π[[S_j]]^β·R  |  B: [[X_B + R_B]]_A = Π[[Q_i]]^h̃·
    |-- MaskedSourceGradient [[X_A + R_A]]_B -------->|     Π[[M_j]]^K·R  (round 2)
    |<-------- MaskedTargetGradient [[X_B + R_B]]_A --|
    |-- OpenedTargetGradient X_B + R_B mod n_A ------>|  round 3: each decrypts the other's
    |<---------- OpenedSourceGradient X_A + R_A mod n_B|  B removes R_B: X_B; A removes R_A: X_A
    A: ∂L/∂W̃_A = X_A + 2γH̃_AᵀU_A                      B: ∂L/∂W̃_B = X_B + 2γH̃_BᵀU_B

R_A, R_B are uniform in Z_n, one per packed plaintext, from the sender's party secret.
Ciphertexts are packed along the representation (one per row, or per row of M and S, in
chunks of the layout's slots: bounds.py); when a row fits k = ⌊slots/d⌋ ≥ 2 times, its
values are k slots apart and k rows of a masked result are interleaved in one ciphertext
(exchange_side.outputs_per_ciphertext), each with its own mask and r^n. A's and B's own
encryptions use fresh DJN obfuscators; the masked results are re-randomised with an
owner-hiding obfuscator (within 2^-41 of a uniform n-th residue, vfl/crypto/owner_hiding.py)
because they go back to the key owner, who knows the factorisation (docs/paillier.md).
Every ciphertext leaving its key holder is therefore fresh or re-randomised.

Leakage, message by message, is in each class's docstring. The relay (coordinator) sees
ciphertexts, uniform residues and sizes only. Residual leakage of the protocol as a whole:
each side learns its own head gradient, an aggregate over the batch, hence the projection
of the peer-dependent per-row quantity onto the p+1 columns of its own H̃ (bounds.min_rows
keeps that ≤ 25 % of m); over many batches and epochs these aggregates accumulate (as in
any gradient-revealing protocol); docs/transfer_paillier.md has the table and the attack.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfl.protocol.content import Content
from vfl.protocol.serde import message
from vfl.protocol.types import EncryptedTensor


@message("transfer_paillier.TransferKey", Content.PUBLIC_KEY)
@dataclass(frozen=True)
class TransferKey:
    """Either side → the other, once per phase: its public modulus n, DJN base hs and the
    representation width d. Public: reveals nothing beyond the spec (d is in it)."""

    n: bytes
    hs: bytes
    width: int


@message("transfer_paillier.SourceTerms", Content.PAILLIER)
@dataclass(frozen=True)
class SourceTerms:
    """A → B, round 1: `rows` = [[Q_i]]_A (m rows × d), `square` = [[¼ΦΦᵀ]]_A (d × d).

    Readable by A only (B and the relay lack sk_A): B learns m and d, both public in the
    schedule and spec. Fresh DJN encryptions from A's secret."""

    rows: EncryptedTensor
    square: EncryptedTensor


@message("transfer_paillier.TargetTerms", Content.PAILLIER)
@dataclass(frozen=True)
class TargetTerms:
    """B → A, round 1: `rows` = [[u_Bᵢ]]_B (m × d), `square` = [[U_BᵀU_B]]_B (d × d).

    Readable by B only: A learns m and d. Fresh DJN encryptions from B's secret."""

    rows: EncryptedTensor
    square: EncryptedTensor


@message("transfer_paillier.MaskedSourceGradient", Content.MASKED)  # B opens X_A + R_A
@dataclass(frozen=True)
class MaskedSourceGradient:
    """A → B, round 2: [[X_A + R_A]]_B, (p_A+1) × d packed, under B's key.

    B decrypts X_A + R_A mod n_B, R_A uniform in Z_n from A's secret: a uniform residue,
    independent of X_A (perfect hiding; ≤ 2^-128 from the derivation). It reveals p_A.
    Re-randomised by A with r^n, r uniform in Z_n: B, which knows its factorisation, cannot
    read A's scalars α, β out of the ciphertext's randomness (test_wire.py checks the
    ciphertext differs from the bare homomorphic product)."""

    values: EncryptedTensor


@message("transfer_paillier.MaskedTargetGradient", Content.MASKED)  # A opens X_B + R_B
@dataclass(frozen=True)
class MaskedTargetGradient:
    """B → A, round 2: [[X_B + R_B]]_A, (p_B+1) × d packed, under A's key.

    A decrypts a uniform residue: nothing about X_B, h_B or u_B; it reveals p_B.
    Re-randomised by B with r^n, as above."""

    values: EncryptedTensor


@message("transfer_paillier.OpenedTargetGradient", Content.PLAIN)
@dataclass(frozen=True)
class OpenedTargetGradient:
    """A → B, round 3: X_B + R_B mod n_A for each of B's masked plaintexts (`count`).

    The relay sees uniform residues. B removes R_B and learns X_B, the cross part of its
    own head gradient: X_B = −½H̃_Bᵀ y Φᵀ − 2γH̃_BᵀU_A + ¼KΦΦᵀ, (p_B+1)·d numbers that mix
    the batch's labels, Φ and U_A through B's own H̃_B. Per row, B learns U_A only as its
    projection onto the columns of H̃_B (the attack in test_reconstruction_attack.py)."""

    count: int
    values: bytes


@message("transfer_paillier.OpenedSourceGradient", Content.PLAIN)
@dataclass(frozen=True)
class OpenedSourceGradient:
    """B → A, round 3: X_A + R_A mod n_B (`count` residues).

    A removes R_A and learns X_A = −2γH̃_AᵀU_B − ½v yᵀU_B + ¼vΦᵀS: the projection of U_B
    onto the columns of A's own H̃_A (and a rank-one term along v), never U_B per row
    (test_reconstruction_attack.py: exact when a broken A learns its per-row gradient)."""

    count: int
    values: bytes
