"""Exact arithmetic on the additive shares V (label holder) and acc (feature holder).

W = V + acc is never held by anyone, so the two parties must update their shares with
the *same* rounding rule, exactly: floats would lose the low bits of ~100-bit shares and
V + acc would drift away from W. Shares are object arrays of Python integers at scale 2^f;
a learning-rate step rounds η·x/2^f with integers only (η as the exact binary fraction
of the float in the spec), so L's V ← V − step(g + ε) and F's acc ← acc + step(ε) sum to
W − η·g within one unit of 2^-f, whatever the size of ε.

In checkpoints and models a share is a uint8 tensor of WIDE_BYTES two's-complement bytes
per entry (torch tensors cannot hold integers this wide; `weights_only` loading still
works). Every update re-checks that the shares fit this width.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch
from numpy.typing import NDArray

from vfl.algorithms.split.paillier.layouts import WIDE_BYTES
from vfl.errors import CryptoError
from vfl.runtime.party_secret import DerivedRandomness

Shares = NDArray[np.object_]
_LIMIT = 1 << (8 * WIDE_BYTES - 1)


def check_wide(values: Shares, what: str) -> Shares:
    """`values` unchanged if every entry fits WIDE_BYTES signed bytes; else CryptoError."""
    worst = max((abs(int(v)) for v in values.ravel()), default=0)
    if worst >= _LIMIT:
        raise CryptoError(
            f"{what}: a share entry of {worst.bit_length()} bits exceeds the {8 * WIDE_BYTES}-bit "
            "share width; lower train.learning_rate or the number of epochs"
        )
    return values


def sgd_step(values: Shares, learning_rate: float, f: int) -> Shares:
    """round(η·x / 2^f) for each x (scale 2^2f → 2^f), exactly, half rounding up."""
    num, den = Fraction(learning_rate).as_integer_ratio()
    scale = den << (f + 1)
    out = [(2 * num * int(x) + (den << f)) // scale for x in values.ravel()]
    return np.array(out, dtype=object).reshape(values.shape)


def encode_exact(values: NDArray[np.floating], f: int) -> Shares:
    """round(x·2^f) as Python integers (a float64 has 53 bits, which this keeps)."""
    return np.array([round(float(v) * (1 << f)) for v in values.ravel()], dtype=object).reshape(
        values.shape
    )


def uniform_signed(draws: DerivedRandomness, shape: tuple[int, ...], bits: int) -> Shares:
    """Entries uniform in [−2^bits, 2^bits): value i of `draws` for entry i (row-major)."""
    count = int(np.prod(shape))
    out = [draws.bits(i, bits + 1) - (1 << bits) for i in range(count)]
    return np.array(out, dtype=object).reshape(shape)


def to_tensor(values: Shares) -> torch.Tensor:
    """Shares as a uint8 tensor of shape (*values.shape, WIDE_BYTES)."""
    flat = torch.frombuffer(bytearray(pack_signed(values)), dtype=torch.uint8)
    return flat.reshape(*values.shape, WIDE_BYTES).clone()


def from_tensor(tensor: torch.Tensor, what: str) -> Shares:
    """The inverse of `to_tensor`; `what` names the checkpoint entry in errors."""
    if tensor.dtype != torch.uint8 or tensor.ndim < 1 or tensor.shape[-1] != WIDE_BYTES:
        raise CryptoError(
            f"{what}: expected uint8 shares of {WIDE_BYTES} bytes per entry, found "
            f"{tensor.dtype} of shape {tuple(tensor.shape)}; the checkpoint predates this "
            "version: start the job again"
        )
    return _ints(tensor.contiguous().numpy().tobytes(), tuple(tensor.shape[:-1]))


def pack_signed(values: Shares) -> bytes:
    """Shares on the wire: WIDE_BYTES big-endian two's-complement bytes each, row-major."""
    check_wide(values, "share")
    return b"".join(int(v).to_bytes(WIDE_BYTES, "big", signed=True) for v in values.ravel())


def unpack_signed(data: bytes, shape: tuple[int, int], where: str) -> Shares:
    count = shape[0] * shape[1]
    if len(data) != count * WIDE_BYTES:
        raise CryptoError(
            f"{where}: {len(data)} bytes, expected {count} shares of {WIDE_BYTES} bytes "
            f"for shape {shape}; both sides must run the same job spec"
        )
    return _ints(data, shape)


def _ints(raw: bytes, shape: tuple[int, ...]) -> Shares:
    values = [
        int.from_bytes(raw[i : i + WIDE_BYTES], "big", signed=True)
        for i in range(0, len(raw), WIDE_BYTES)
    ]
    return np.array(values, dtype=object).reshape(shape)
