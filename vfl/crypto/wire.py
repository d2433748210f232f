"""Ciphertexts and masked plaintexts <-> fixed-width bytes for `EncryptedTensor`.

Every integer from a peer is range-checked here: ciphertexts must lie in [1, N) (N = n² for
Paillier, n for OU) and be units mod n; masked plaintexts in [0, n). The expected count
and key fingerprint are the receiver's, never the sender's word.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import gmpy2
from gmpy2 import mpz

from vfl.crypto.packing import SlotLayout
from vfl.errors import ProtocolError
from vfl.protocol.types import EncryptedTensor


class CipherKey(Protocol):
    """What the wire format needs of a public key, whatever the scheme."""

    @property
    def n(self) -> mpz: ...

    @property
    def ct_modulus(self) -> mpz: ...

    @property
    def width(self) -> int: ...

    @property
    def plain_width(self) -> int: ...

    @property
    def fingerprint(self) -> bytes: ...


def to_wire(
    key: CipherKey,
    cts: Sequence[mpz],
    shape: tuple[int, ...],
    packing: str,
    layout: SlotLayout,
    exponent: int,
) -> EncryptedTensor:
    width = key.width
    return EncryptedTensor(
        key_fingerprint=key.fingerprint,
        exponent=exponent,
        shape=shape,
        packing=packing,
        slots=layout.slots,
        slot_bits=layout.width,
        width=width,
        ciphertexts=b"".join(int(c).to_bytes(width, "big") for c in cts),
    )


def from_wire(
    key: CipherKey, t: EncryptedTensor, count: int, packing: str, layout: SlotLayout, where: str
) -> list[mpz]:
    if t.key_fingerprint != key.fingerprint:
        raise ProtocolError(
            f"{where}: ciphertexts under another key; the peers exchanged keys out of order"
        )
    if (t.packing, t.slots, t.slot_bits, t.width) != (
        packing,
        layout.slots,
        layout.width,
        key.width,
    ):
        raise ProtocolError(
            f"{where}: layout {t.packing}/{t.slots}x{t.slot_bits}/{t.width}B, expected "
            f"{packing}/{layout.slots}x{layout.width}/{key.width}B; "
            f"both sides must run the same job spec"
        )
    if t.count != count:
        raise ProtocolError(f"{where}: {t.count} ciphertexts, expected {count}")
    w, n, modulus = t.width, key.n, key.ct_modulus
    out = []
    for i in range(count):
        c = mpz(int.from_bytes(t.ciphertexts[i * w : (i + 1) * w], "big"))
        if not 0 < c < modulus or gmpy2.gcd(c, n) != 1:
            raise ProtocolError(f"{where}: ciphertext {i} is not a valid ciphertext under this key")
        out.append(c)
    return out


def plain_to_bytes(key: CipherKey, values: Sequence[int]) -> bytes:
    w = key.plain_width
    return b"".join((int(v) % int(key.n)).to_bytes(w, "big") for v in values)


def plain_from_bytes(key: CipherKey, data: bytes, count: int, where: str) -> list[int]:
    w = key.plain_width
    if len(data) != count * w:
        raise ProtocolError(f"{where}: {len(data)} bytes, expected {count} values of {w} bytes")
    out = [int.from_bytes(data[i * w : (i + 1) * w], "big") for i in range(count)]
    if any(v >= key.n for v in out):
        raise ProtocolError(f"{where}: a masked value is not below the modulus")
    return out
