"""A party's X25519 public key, signed with the key of its mTLS certificate.

The coordinator stores and forwards these statements, but it cannot make one: the
signature needs the party's certificate key and the certificate must chain to the
federation's CA, which every party holds itself. A peer accepts a key only if the
certificate is valid now, was issued by that CA, names the expected party (CN) as a party
(OU), and signed exactly this party name and key. The coordinator, when it hosts a program
(the horizontal aggregator, participant `coordinator`), has a statement of its own, signed
with its server certificate's key: CN `coordinator`, OU `coordinator`. No party can be
named `coordinator` (`vfl certs init` refuses the name), so neither can pass for the other.
So a coordinator that swaps in keys of its own for a party's (the relay man-in-the-middle)
is refused, whatever else it controls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.x509.oid import NameOID

from vfl.config.phase_plan import COORDINATOR
from vfl.crypto.sealing.encoding import framed
from vfl.errors import CryptoError

CONTEXT = b"vfl/x25519-identity-key/v1"
KEY_BYTES = 32


@dataclass(frozen=True)
class KeyStatement:
    party: str
    public_key: bytes
    """The raw 32-byte X25519 public key."""
    certificate: bytes
    """The party's mTLS certificate (PEM), issued by the federation's CA."""
    signature: bytes
    """By the certificate's key over `signed_bytes(party, public_key)`."""


def signed_bytes(party: str, public_key: bytes, context: bytes = CONTEXT) -> bytes:
    """What the certificate key signs; `context` tells a long-term key from a per-job one
    (job_key.py), so a statement of one kind never verifies as the other."""
    return framed(context, party, public_key)


def sign_statement(
    party: str,
    public_key: bytes,
    certificate_pem: bytes,
    signing_key_pem: bytes,
    context: bytes = CONTEXT,
) -> KeyStatement:
    key = serialization.load_pem_private_key(signing_key_pem, password=None)
    message = signed_bytes(party, public_key, context)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(message)
    else:
        raise CryptoError(
            f"party {party}: the certificate key is {type(key).__name__}; sealing needs an "
            "EC or Ed25519 certificate key (`vfl certs init` makes EC P-256)"
        )
    return KeyStatement(party, public_key, certificate_pem, signature)


def verify_statement(
    statement: KeyStatement,
    expected_party: str,
    ca_pem: bytes,
    now: dt.datetime | None = None,
    revoked: Callable[[int], bool] | None = None,
    context: bytes = CONTEXT,
) -> X25519PublicKey:
    """The peer's key if `statement` binds it to `expected_party`; CryptoError otherwise.

    `revoked` says whether a certificate serial is on the CA's revocation list
    (revocation.py); a statement signed with a revoked certificate is refused."""

    def refuse(why: str) -> CryptoError:
        return CryptoError(
            f"peer {expected_party}: its sealing key is not bound to its certificate ({why}); "
            "refusing it — the coordinator or the network substituted a key"
        )

    if statement.party != expected_party:
        raise refuse(f"the statement names {statement.party!r}")
    try:
        cert = x509.load_pem_x509_certificate(statement.certificate)
        ca = x509.load_pem_x509_certificate(ca_pem)
    except ValueError:
        raise refuse("certificate is not PEM") from None
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise refuse("certificate not issued by this federation's CA") from None
    if revoked is not None and revoked(cert.serial_number):
        raise refuse(f"certificate serial {cert.serial_number:x} was revoked by the CA")
    moment = now or dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise refuse("certificate expired or not yet valid")
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ous = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    unit = "coordinator" if expected_party == COORDINATOR else "party"
    if [a.value for a in cns] != [expected_party] or [a.value for a in ous] != [unit]:
        raise refuse("certificate is not this party's")
    if len(statement.public_key) != KEY_BYTES:
        raise refuse(f"key has {len(statement.public_key)} bytes, expected {KEY_BYTES}")
    message = signed_bytes(statement.party, statement.public_key, context)
    public = cert.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(statement.signature, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(statement.signature, message)
        else:
            raise refuse(f"unsupported certificate key {type(public).__name__}")
    except InvalidSignature:
        raise refuse("signature does not match") from None
    return X25519PublicKey.from_public_bytes(statement.public_key)
