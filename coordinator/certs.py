"""Certificate tooling: one CA, the coordinator's server certificate, one client certificate
per party (and one for operators), so that every connection is mutual TLS.

Identity lives in the certificate: the common name is the party's registered name and the
organizational unit says what it is (`party`, `operator` or `coordinator`). The
coordinator reads both from the verified peer certificate and never from a request field.
Private keys are written with mode 0600.

Production enrolment keeps every private key with its owner: the CA operator's folder
(`authority.py`), a key and CSR made on each party's machine (`cert_request.py`).
`init_pki` (`vfl certs init`) writes every key into one folder: a one-machine shortcut for
demos and tests only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vfl.errors import ConfigError

PARTY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
OPERATOR = "operator"
COORDINATOR_NAME = "coordinator"
RESERVED = (OPERATOR, COORDINATOR_NAME, "ca")
ROLES = ("party", "operator", "coordinator")
CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vfl federation CA")])


class Role(StrEnum):
    """What a certificate's holder is (its OU)."""

    PARTY = "party"
    OPERATOR = "operator"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Identity:
    """Who is on the other end of a connection, as its certificate says."""

    name: str
    role: str  # one of ROLES
    serial: int = 0
    """The certificate's serial number (0 in insecure mode): what a CRL revokes."""

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


def identity_from_pem(pem: bytes) -> Identity:
    """The identity of a verified peer certificate (CN = name, OU = role)."""
    cert = x509.load_pem_x509_certificate(pem)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    name = str(names[0].value) if names else ""
    role = str(units[0].value) if units else ""
    return Identity(name, role if role in ROLES else "", cert.serial_number)


def key_fingerprint(public: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 of the public key (SubjectPublicKeyInfo), for people to compare aloud."""
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.sha256(der).hexdigest()
    return "SHA256:" + ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def subject(name: str, role: Role) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role.value),
        ]
    )


def ca_certificate(days: int) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A new self-signed CA certificate and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        _builder(CA_NAME, CA_NAME, key.public_key(), now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def leaf_certificate(
    name: str,
    role: Role,
    public: ec.EllipticCurvePublicKey,
    hosts: list[str],
    usage: x509.ObjectIdentifier,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    days: int,
) -> x509.Certificate:
    """A certificate for `public`, with the subject and extensions the CA decides."""
    now = dt.datetime.now(dt.UTC)
    return (
        _builder(subject(name, role), ca.subject, public, now, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_sans(hosts)), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def issued_entry(cert: x509.Certificate) -> dict[str, str | None]:
    """The row `issued.json` keeps for a certificate the CA signed (authority.Issued)."""
    who = identity_from_pem(cert.public_bytes(serialization.Encoding.PEM))
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey), "the CA signs EC keys only"
    return {
        "serial": format(cert.serial_number, "x"),
        "name": who.name,
        "role": who.role,
        "fingerprint": key_fingerprint(public),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "revoked": None,
    }


def init_pki(out: Path, hosts: list[str], parties: list[str], days: int = 825) -> list[Path]:
    """Write ca.pem/key, coordinator.pem/key, NAME.pem/key per party and operator.pem/key."""
    if not hosts:
        raise ConfigError("--coordinator: name at least one host name or IP address")
    bad = [p for p in parties if not PARTY_NAME.match(p) or p in RESERVED]
    if bad or not parties:
        raise ConfigError(
            f"--parties: invalid or reserved name {bad[0]!r}; use lowercase letters, digits, "
            "'-' and '_' (not operator, coordinator or ca)"
            if bad
            else "--parties: name at least one party"
        )
    out.mkdir(parents=True, exist_ok=True)
    existing = [p for p in ("ca.pem", "ca.key") if (out / p).exists()]
    if existing:
        raise ConfigError(f"{out / existing[0]}: already exists; choose an empty --out folder")
    ca_cert, ca_key = ca_certificate(days)
    written = [write_cert(out / "ca.pem", ca_cert), write_key(out / "ca.key", ca_key)]
    leaves = [(COORDINATOR_NAME, Role.COORDINATOR, hosts)]
    leaves += [(p, Role.PARTY, [p]) for p in parties] + [(OPERATOR, Role.OPERATOR, [OPERATOR])]
    issued = []
    for name, role, sans in leaves:
        key = ec.generate_private_key(ec.SECP256R1())
        usage = (
            ExtendedKeyUsageOID.SERVER_AUTH
            if role is Role.COORDINATOR
            else ExtendedKeyUsageOID.CLIENT_AUTH
        )
        cert = leaf_certificate(name, role, key.public_key(), sans, usage, ca_cert, ca_key, days)
        written += [write_cert(out / f"{name}.pem", cert), write_key(out / f"{name}.key", key)]
        issued.append(issued_entry(cert))
    # the same record as a CA folder's, so `vfl certs revoke --ca OUT` works on a demo too
    record = {"crl_number": 0, "certificates": issued}
    (out / "issued.json").write_text(json.dumps(record, indent=2) + "\n")
    return [*written, out / "issued.json"]


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public: ec.EllipticCurvePublicKey,
    now: dt.datetime,
    days: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
    )


def _key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not ca,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _sans(hosts: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def write_cert(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    path.chmod(0o600)
    return path
