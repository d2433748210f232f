"""Value types a message field may hold, and the tensor annotations decoding checks.

A message field is annotated once, in the algorithm's messages.py; the serde reads the
annotation to encode the field and to check what a peer sent:

    values: Annotated[np.ndarray, TensorSpec("float32", ndim=2)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TensorSpec:
    """The dtype and rank a tensor field must have; the receiver checks exact shapes."""

    dtype: str
    ndim: int

    def numpy_dtype(self) -> np.dtype[np.generic]:
        return np.dtype(self.dtype)


@dataclass(frozen=True)
class EncryptedTensor:
    """Paillier ciphertexts under one public key, as fixed-width big-endian bytes.

    Only the key fingerprint travels with them: which key, never the key.
    """

    key_fingerprint: bytes
    exponent: int
    shape: tuple[int, ...]
    packing: str
    slots: int
    slot_bits: int
    width: int
    ciphertexts: bytes

    @property
    def count(self) -> int:
        """Number of ciphertexts carried."""
        return len(self.ciphertexts) // self.width if self.width else 0
