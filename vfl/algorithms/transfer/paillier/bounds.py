"""Fixed-point bounds, the slot layout and the rounding tolerance of the exchange.

Every value that is encrypted or used as a homomorphic scalar is encoded at scale 2^f
(f = precision_bits) and must be below its bound here, or encoding raises CryptoError
(vfl.crypto.fixed_point.encode). Products carry 2f fractional bits. The slot layout is
sized so that the largest *final* value (a head-gradient entry) fits a slot exactly;
intermediate values never need to, because everything is linear mod n.

Real-magnitude bounds (m rows per batch, d representation width):
  |h| < 2^H_BITS (the head's inputs, the bias column's 1 included)
  |u_A|, |u_B|, |Φ| < 2^U_BITS
  |Q_i| = |−½ y_i Φ − 2γ u_Aᵢ| < 2^Q_BITS            (source terms, under pk_A)
  |M| = |¼ ΦΦᵀ| < 2^M_BITS                           (source terms, under pk_A)
  |K| = |H̃_Bᵀ U_B| < 2^(H+U+⌈log2 m⌉)                (target scalars)
  |S| = |U_Bᵀ U_B| < 2^(2U+⌈log2 m⌉)                 (target terms, under pk_B)
  |α_ik| = |−2γ h̃_Aik − ½ y_i v_k| < 2^ALPHA_BITS    (source scalars, v = ∂Φ/∂W̃_A)
  |β_kj| = |¼ v_k Φ_j| < 2^BETA_BITS                 (source scalars)
The cross gradients X_B = H̃_BᵀQ + K·M and X_A = Σ_i α_i u_Bᵢᵀ + β·S are sums of m and d
products of these, so |X| < 2^result_bits(m, d) (`vfl.crypto.packing.product_bits`).

Masks need no width: each masked plaintext is X + R mod n with R uniform in Z_n (derived
with 128 spare bits, so within 2^-128 of uniform), which is perfect hiding of X from the
key owner who decrypts it; statistical distance ≤ 2^-128 < 2^-STAT_BITS = 2^-40.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vfl.config.paillier_bounds import STAT_BITS
from vfl.crypto.packing import SlotLayout, product_bits
from vfl.errors import CryptoError

__all__ = [
    "ALPHA_BITS",
    "BETA_BITS",
    "H_BITS",
    "M_BITS",
    "Q_BITS",
    "STAT_BITS",
    "U_BITS",
    "check_rows",
    "cross_tolerance",
    "k_bits",
    "layout",
    "min_rows",
    "result_bits",
    "s_bits",
]

H_BITS = 8
U_BITS = 8
Q_BITS = 12
M_BITS = 14
ALPHA_BITS = 12
BETA_BITS = 14
ROWS_PER_INPUT = 4
"""A batch must have at least ROWS_PER_INPUT·(p+1) rows for a head with p inputs."""


def _log2(n: int) -> int:
    return max(n - 1, 0).bit_length()


def k_bits(rows: int) -> int:
    """Bits of |H̃_Bᵀ U_B| for a batch of `rows`."""
    return H_BITS + U_BITS + _log2(rows)


def s_bits(rows: int) -> int:
    """Bits of |U_Bᵀ U_B| for a batch of `rows`."""
    return 2 * U_BITS + _log2(rows)


def result_bits(rows: int, width: int) -> int:
    """Bits of every entry of either side's cross gradient X (real magnitude)."""
    return 1 + max(
        product_bits(H_BITS, Q_BITS, rows),
        product_bits(k_bits(rows), M_BITS, width),
        product_bits(ALPHA_BITS, U_BITS, rows),
        product_bits(BETA_BITS, s_bits(rows), width),
    )


def layout(key_bits: int, f: int, max_rows: int, width: int) -> SlotLayout:
    """Slots for every ciphertext of the exchange: inputs and results, both keys alike."""
    return SlotLayout.for_key(key_bits, 2 * f + result_bits(max_rows, width))


def min_rows(head_inputs: int) -> int:
    """Fewest rows a batch may have for a head with `head_inputs` inputs (bias excluded).

    A head gradient is H̃ᵀ·(per-row quantity): it reveals the projection of the peer's
    per-row values onto the p+1 columns of the owner's own H̃, i.e. about (p+1)/m of their
    energy for unrelated data (docs/transfer_paillier.md). With m ≥ 4(p+1) that is ≤ 25 %;
    with m ≤ p+1 it would be everything (the per-row gradient itself).
    """
    return ROWS_PER_INPUT * (head_inputs + 1)


def check_rows(rows: int, head_inputs: int, max_rows: int, where: str) -> None:
    if rows > max_rows:
        raise CryptoError(
            f"{where}: a batch of {rows} rows, the exchange was sized for {max_rows}; "
            "pass the job's train.batch_size as max_rows"
        )
    if rows < min_rows(head_inputs):
        raise CryptoError(
            f"{where}: a batch of {rows} rows for a head with {head_inputs} inputs; the head "
            f"gradient would reveal the peer's per-row values: at least "
            f"{min_rows(head_inputs)} rows are needed (merge the epoch's last batch)"
        )


def cross_tolerance(
    left: NDArray[np.float64], right: NDArray[np.float64], f: int
) -> NDArray[np.float64]:
    """Per-entry bound on |Σ_t l'[t,k]·r'[t,j] − Σ_t l[t,k]·r[t,j]| when every factor is
    rounded to a multiple of 2^-f (l' = l + a, |a| ≤ ε = 2^-(f+1), likewise r'):
    |l'r' − lr| ≤ |l|ε + |r|ε + ε², summed over the t terms. The sum of the encoded
    products is exact (integers mod n), and its conversion to float64 adds a relative
    2^-52, far below. Callers add the bounds of the two cross terms."""
    eps = 2.0 ** -(f + 1)
    terms = left.shape[0]
    la, ra = np.abs(left), np.abs(right)
    bound: NDArray[np.float64] = (
        eps * (la.sum(axis=0)[:, None] + ra.sum(axis=0)[None, :]) + terms * eps * eps
    )
    return bound
