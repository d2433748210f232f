"""The key owner's side of enrolment: a private key (0600) and a CSR, on the owner's machine.

Only the CSR goes to the CA operator; the key never leaves. A renewal writes the new key
beside the live one (`NAME.renew.key`) so the running node keeps working until the new
certificate is installed (`install`), which checks the pair before replacing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from coordinator.certs import (
    COORDINATOR_NAME,
    OPERATOR,
    PARTY_NAME,
    RESERVED,
    Role,
    key_fingerprint,
    subject,
    write_key,
)
from vfl.errors import ConfigError

RENEW_SUFFIX = ".renew.key"


@dataclass(frozen=True)
class Request:
    """The files `make_request` wrote and the key fingerprint to read to the CA operator."""

    key: Path
    csr: Path
    fingerprint: str


def make_request(
    out: Path, name: str, role: Role, hosts: list[str] | None = None, renew: bool = False
) -> Request:
    """Write NAME.key (or NAME.renew.key) and NAME.csr into `out`."""
    if role is Role.COORDINATOR:
        if not hosts:
            raise ConfigError("--hosts: name the host names or IPs the coordinator serves on")
        name = COORDINATOR_NAME
    elif role is Role.OPERATOR:
        name = OPERATOR
    elif not PARTY_NAME.match(name) or name in RESERVED:
        raise ConfigError(
            f"--party: invalid or reserved name {name!r}; use lowercase letters, digits, "
            "'-' and '_' (not operator, coordinator or ca)"
        )
    out.mkdir(parents=True, exist_ok=True)
    key_path = out / (name + (RENEW_SUFFIX if renew else ".key"))
    if not renew and key_path.exists():
        raise ConfigError(
            f"{key_path}: already exists; to renew, run again with --renew (the live key stays)"
        )
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(h) for h in (hosts or [name])]
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject(name, role))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_key(key_path, key)
    csr_path = out / f"{name}.csr"
    csr_path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    return Request(key_path, csr_path, key_fingerprint(key.public_key()))


def install(folder: Path, name: str, cert_pem: bytes, ca_pem: bytes) -> Path:
    """Put a signed certificate in place as NAME.pem, with the key it was issued for.

    The certificate must chain to `ca_pem` and match NAME.renew.key (then that key
    replaces NAME.key) or NAME.key. The key is replaced before the certificate: a node
    reading the pair between the two renames sees a mismatch and keeps its previous pair.
    """
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        ca = x509.load_pem_x509_certificate(ca_pem)
        cert.verify_directly_issued_by(ca)
    except Exception as exc:
        raise ConfigError(f"certificate for {name}: not issued by this CA ({exc})") from None
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey), "the CA signs EC keys only"
    wanted = key_fingerprint(public)
    for candidate in (folder / (name + RENEW_SUFFIX), folder / f"{name}.key"):
        if candidate.exists() and _fingerprint_of(candidate) == wanted:
            if candidate.name.endswith(RENEW_SUFFIX):
                candidate.replace(folder / f"{name}.key")
            target = folder / f"{name}.pem"
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(cert_pem)
            tmp.replace(target)
            return target
    raise ConfigError(
        f"certificate for {name} (key {wanted}) matches neither {name}{RENEW_SUFFIX} nor "
        f"{name}.key in {folder}; install it on the machine that made its request"
    )


def _fingerprint_of(path: Path) -> str:
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return ""
    return key_fingerprint(key.public_key())
