"""Typed access to SecretFlow HEU (`sf-heu`, the optional `heu` extra): its phe module only.

HEU has no type stubs and no documented way in or out of its objects other than its own
serialisation, so everything the rest of vfl may need from it goes through here:

- `HeuScheme` wraps one HEU key pair ("ZPaillier" or "OU") with integer-in, integer-out
  operations; ciphertexts stay opaque HEU objects until `to_int`.
- `to_int` / `from_int` convert ciphertexts to and from the plain integers our wire format
  carries (vfl/crypto/wire.py). HEU 0.5.2b0 serialises a ciphertext as msgpack: a one-item
  array holding the integer as a string of little-endian bytes (bit_length // 8 + 1 of
  them), followed by the scheme's variant index and seven zero fields. The integer is in
  Montgomery form: c·R mod N with N = n² (ZPaillier) or n (OU) and R = 2^(60·⌈bits(N)/60⌉)
  (libtommath's 60-bit digits), so the conversion costs one multiplication mod N either
  way. Undocumented (found by decrypting known ciphertexts), so the contract test checks
  it against HEU's own arithmetic.
- `zpaillier_from_keys` builds an HEU ZPaillier key pair from *our* key (n, hs, p, q):
  HEU's ZPaillier is the same scheme as ours (g = n + 1, DJN obfuscators hs^r), so with
  the same key its ciphertexts and ours are interchangeable integers.

Never log what these functions take: keys and ciphertexts.
"""

from __future__ import annotations

from math import lcm
from typing import Any

import gmpy2

try:
    from heu import phe as _phe

    UNAVAILABLE: str | None = None
except ImportError as exc:  # the optional extra is not installed
    _phe = None
    UNAVAILABLE = f"sf-heu is not importable ({exc}); install the `heu` extra"

SCHEMES = ("ZPaillier", "OU")
_VARIANT = {"OU": 1, "ZPaillier": 4}
"""HEU's index of each scheme in its ciphertext/key variant (its SchemaType values)."""


def _require() -> Any:
    if _phe is None:
        raise RuntimeError(UNAVAILABLE)
    return _phe


def _mp_str(payload: bytes) -> bytes:
    """A msgpack str header and payload (HEU stores integers as str, not bin)."""
    size = len(payload)
    if size < 32:
        return bytes([0xA0 | size]) + payload
    if size < 1 << 8:
        return b"\xd9" + size.to_bytes(1, "big") + payload
    if size < 1 << 16:
        return b"\xda" + size.to_bytes(2, "big") + payload
    return b"\xdb" + size.to_bytes(4, "big") + payload


def _mp_int(value: int) -> bytes:
    if value < 0:
        raise ValueError("HEU integers are serialised here only when non-negative")
    return _mp_str(value.to_bytes(value.bit_length() // 8 + 1, "little"))


def _mp_object(schema: str, fields: list[int]) -> bytes:
    """HEU's serialised key or ciphertext: [fields…], variant index, seven zero fields."""
    head = bytes([0x90 | len(fields)]) + b"".join(_mp_int(f) for f in fields)
    return head + bytes([_VARIANT[schema]]) + bytes(7)


def _mp_read_int(data: bytes, at: int) -> tuple[int, int]:
    """The integer serialised at `at` and the offset after it."""
    tag = data[at]
    if 0xA0 <= tag <= 0xBF:
        start, size = at + 1, tag & 0x1F
    elif tag == 0xD9:
        start, size = at + 2, data[at + 1]
    elif tag == 0xDA:
        start, size = at + 3, int.from_bytes(data[at + 1 : at + 3], "big")
    elif tag == 0xDB:
        start, size = at + 5, int.from_bytes(data[at + 1 : at + 5], "big")
    else:
        raise ValueError("unexpected HEU serialisation")
    return int.from_bytes(data[start : start + size], "little"), start + size


def _mp_first_int(data: bytes) -> int:
    """The first integer of a serialised HEU object (a ciphertext's value, a key's n)."""
    return _mp_read_int(data, 1)[0]


class HeuScheme:
    """One HEU key pair (or public key only) with integer plaintexts and opaque ciphertexts.

    Plaintexts are signed Python integers with |m| <= `plaintext_bound` (HEU refuses
    larger ones); ciphertexts are HEU `Ciphertext` objects.
    """

    def __init__(self, schema: str, kit: Any) -> None:
        self.schema = schema
        self._kit = kit
        self._enc = kit.encryptor()
        self._eval = kit.evaluator()
        self._dec = kit.decryptor() if hasattr(kit, "decryptor") else None
        self.plaintext_bound = int(str(kit.public_key().plaintext_bound()))
        """Largest |m| HEU accepts: ~n/2 for ZPaillier, 2^(bits(p)−2) for OU (n = p²q)."""
        n = _mp_first_int(kit.public_key().serialize())
        self.modulus = n * n if schema == "ZPaillier" else n
        """Ciphertexts are residues mod this: n² (ZPaillier) or n (OU)."""
        digits = -(-self.modulus.bit_length() // 60)
        self._r = pow(2, 60 * digits, self.modulus)
        self._r_inv = pow(self._r, -1, self.modulus)

    @staticmethod
    def generate(schema: str, key_bits: int) -> HeuScheme:
        phe = _require()
        return HeuScheme(schema, phe.setup(getattr(phe.SchemaType, schema), key_bits))

    def ou_h(self) -> int:
        """OU's public H (encryptions of zero are H^r mod n): public key [n, G, H, …]."""
        if self.schema != "OU":
            raise ValueError("H is an OU public-key element")
        data = self._kit.public_key().serialize()
        at = 1
        fields = []
        for _ in range(3):
            value, at = _mp_read_int(data, at)
            fields.append(value)
        return fields[2]

    @property
    def plaintext_bits(self) -> int:
        """Bits of the signed plaintext range [−bound, bound]: log2(2·bound + 1)."""
        return (2 * self.plaintext_bound + 1).bit_length()

    def encrypt(self, m: int) -> Any:
        """A fresh encryption under HEU's own randomness (OS-seeded, not caller-supplied)."""
        return self._enc.encrypt_raw(int(m))

    def decrypt(self, c: Any) -> int:
        if self._dec is None:
            raise RuntimeError("this HEU kit holds no secret key")
        return int(self._dec.decrypt_raw(c))

    def add(self, a: Any, b: Any) -> Any:
        return self._eval.add(a, b)

    def add_plain(self, a: Any, m: int) -> Any:
        """[[x + m]] without re-randomisation (HEU multiplies by g^m only)."""
        return self._eval.add(a, self._kit.plaintext(int(m)))

    def mul(self, a: Any, k: int) -> Any:
        """[[k·x]]: HEU's scalar API takes a C++ int64, so |k| < 2^63 (heu.numpy's
        PlaintextArray products take wider scalars)."""
        if not -(1 << 63) <= k < 1 << 63:
            raise ValueError("HEU's scalar multiply takes a 64-bit signed scalar")
        return self._eval.mul(a, int(k))

    def rerandomize(self, a: Any) -> Any:
        """HEU has no re-randomise call: add a fresh encryption of 0."""
        return self._eval.add(a, self._enc.encrypt_raw(0))

    def to_int(self, c: Any) -> int:
        """The ciphertext as a residue mod `modulus` (out of HEU's Montgomery form)."""
        return _mp_first_int(c.serialize()) * self._r_inv % self.modulus

    def from_int(self, value: int) -> Any:
        """An HEU ciphertext from a residue mod `modulus` (range-checked by the caller)."""
        mont = int(value) * self._r % self.modulus
        return _require().Ciphertext.load_from(_mp_object(self.schema, [mont]))


def zpaillier_from_keys(n: int, hs: int, p: int | None = None, q: int | None = None) -> HeuScheme:
    """HEU ZPaillier under our key: public (n, hs), and the private key when p, q are given.

    HEU's ZPaillier public key is [n, hs] and its secret key [λ, λ⁻¹ mod n, p, q] with
    λ = lcm(p − 1, q − 1) (read from HEU 0.5.2b0's serialisation).
    """
    phe = _require()
    public = phe.PublicKey.load_from(_mp_object("ZPaillier", [n, hs]))
    if p is None or q is None:
        return HeuScheme("ZPaillier", phe.setup(public))
    lam = lcm(p - 1, q - 1)
    mu = int(gmpy2.invert(lam, n))
    secret = phe.SecretKey.load_from(_mp_object("ZPaillier", [lam, mu, p, q]))
    return HeuScheme("ZPaillier", phe.setup(public, secret))
