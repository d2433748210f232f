"""RSA for blind-signature PSI: a fresh key per job, CRT signing with gmpy2, and hashes.

The signed message is a full-domain hash (SHAKE-256 of the ID expanded past the modulus,
reduced mod n): blind RSA over a raw SHA-256 value is a small message in a huge group and
is attackable. Tags are a hash of the signature, so the client compares short values and
a tag says nothing without the signature. Both hashes bind the modulus, so values from
one job's key are useless in another.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import gmpy2
from cryptography.hazmat.primitives.asymmetric import rsa

from vfl.config.job_spec import MIN_KEY_BITS
from vfl.errors import ConfigError, ProtocolError

DEFAULT_BITS = 2048
MIN_BITS = MIN_KEY_BITS
"""The smallest modulus a signer generates and a client accepts. A module constant, not a
parameter: neither a job spec nor a caller nor a test can lower it (tests use real 2048-bit
keys: making one takes ~40 ms)."""
EXPONENT = 65537
TAG_BYTES = 16
_FDH = b"vfl.psi.rsa.v1/fdh\x00"
_TAG = b"vfl.psi.rsa.v1/tag\x00"


@dataclass(frozen=True)
class PublicKey:
    n: int
    e: int

    @property
    def size(self) -> int:
        """Bytes of one value mod n."""
        return (self.n.bit_length() + 7) // 8

    def modulus_bytes(self) -> bytes:
        return self.n.to_bytes(self.size, "big")

    def fdh(self, value: str) -> int:
        """Full-domain hash of an ID into Z_n (bias below 2^-128)."""
        digest = hashlib.shake_256(_FDH + self.modulus_bytes() + value.encode("utf-8"))
        return int.from_bytes(digest.digest(self.size + 16), "big") % self.n

    def tag(self, signature: int) -> bytes:
        data = _TAG + self.modulus_bytes() + signature.to_bytes(self.size, "big")
        return hashlib.sha256(data).digest()[:TAG_BYTES]


@dataclass(frozen=True)
class PrivateKey:
    """CRT form: signing costs two half-size exponentiations instead of one full one."""

    public: PublicKey
    p: int
    q: int
    dp: int
    dq: int
    qinv: int

    @classmethod
    def generate(cls, bits: int = DEFAULT_BITS) -> PrivateKey:
        if bits < MIN_BITS:
            raise ConfigError(f"align.key_bits: {bits}; RSA-PSI keys have at least {MIN_BITS} bits")
        numbers = rsa.generate_private_key(EXPONENT, bits).private_numbers()
        pub = PublicKey(numbers.public_numbers.n, numbers.public_numbers.e)
        return cls(pub, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp)

    def sign(self, m: int) -> int:
        p, q = gmpy2.mpz(self.p), gmpy2.mpz(self.q)
        sp = gmpy2.powmod(m, self.dp, p)
        sq = gmpy2.powmod(m, self.dq, q)
        return int(sq + ((self.qinv * (sp - sq)) % p) * q)


def check_public(modulus: bytes, exponent: int, where: str, min_bits: int) -> PublicKey:
    """A signer's public key: at least `min_bits` (never under MIN_BITS), odd, exponent e.

    A client that blinds under a weak modulus hands its IDs to whoever can factor it."""
    n = int.from_bytes(modulus, "big")
    wanted = max(min_bits, MIN_BITS)
    if n.bit_length() < wanted or n % 2 == 0 or exponent != EXPONENT:
        raise ProtocolError(
            f"{where}: RSA key of {n.bit_length()} bits with exponent {exponent}; refused: "
            f"this client needs an odd modulus of >= {wanted} bits (align.key_bits) and "
            f"exponent {EXPONENT}"
        )
    return PublicKey(n, exponent)
