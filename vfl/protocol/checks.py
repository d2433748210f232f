"""Checks a receiver applies to what a peer sent, beyond what decoding already checked."""

from __future__ import annotations

import numpy as np

from vfl.errors import ProtocolError


def expect_shape(where: str, array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Return `array` if it has exactly `shape`, else name the message and both shapes."""
    if array.shape != shape:
        raise ProtocolError(f"{where}: expected shape {shape}, received {array.shape}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ProtocolError(f"{where}: contains NaN or infinite values")
    return array
