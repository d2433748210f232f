"""The TLS files of this process: readable, the certificate signed by the CA, naming who
this process is, and the key belonging to the certificate. Nothing of the key is shown."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from coordinator.certs import identity_from_pem
from vfl.cli.doctor.check import CheckResult, failed, passed
from vfl.config.coordinator_config import TlsFiles
from vfl.errors import ConfigError

NAME = "tls files"
Labelled = list[tuple[str, x509.Certificate]]


@dataclass(frozen=True)
class Expected:
    """Who the certificate must name: `name` (CN), `role` (OU); `source` is the file."""

    name: str
    role: str
    source: str


class _BadFileError(Exception):
    """One finding that fails the check; its text is the line after the file name."""


def check_files(tls: TlsFiles, expected: Expected) -> tuple[CheckResult, Labelled]:
    """The verdict and the certificates read (for the expiry check), labelled by field."""
    certs: Labelled = []
    try:
        ca_pem, cert_pem, key_pem = _read(tls)
        ca = _certificate(ca_pem, f"tls.ca {tls.ca}")
        cert = _certificate(cert_pem, f"tls.cert {tls.cert}")
        certs += [(f"tls.ca {tls.ca.name}", ca), (f"tls.cert {tls.cert.name}", cert)]
        _signed(cert, ca, tls)
        _names(cert_pem, expected, tls)
        _key_matches(key_pem, cert, tls)
    except _BadFileError as bad:
        return failed(NAME, f"{expected.source}: {bad}"), certs
    return passed(
        NAME,
        f"{tls.cert.name} is {expected.role} {expected.name!r}, signed by {tls.ca.name}, "
        f"and {tls.key.name} is its key",
    ), certs


def _read(tls: TlsFiles) -> tuple[bytes, bytes, bytes]:
    try:
        return tls.read()
    except ConfigError as exc:
        raise _BadFileError(f"{exc}; fix the path") from None


def _certificate(pem: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise _BadFileError(f"{what} is not a PEM certificate") from None


def _signed(cert: x509.Certificate, ca: x509.Certificate, tls: TlsFiles) -> None:
    try:
        cert.verify_directly_issued_by(ca)
    except Exception:  # ValueError, TypeError or InvalidSignature: all mean "not by this CA"
        raise _BadFileError(
            f"tls.cert {tls.cert} is not signed by tls.ca {tls.ca}; use the ca.pem of the "
            "federation that issued the certificate"
        ) from None


def _names(cert_pem: bytes, expected: Expected, tls: TlsFiles) -> None:
    identity = identity_from_pem(cert_pem)
    if (identity.name, identity.role) != (expected.name, expected.role):
        raise _BadFileError(
            f"tls.cert {tls.cert} is {identity.role or 'no role'} {identity.name!r}, expected "
            f"{expected.role} {expected.name!r}; use {expected.name}.pem or fix the name"
        )


def _key_matches(key_pem: bytes, cert: x509.Certificate, tls: TlsFiles) -> None:
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise _BadFileError(f"tls.key {tls.key} is not an unencrypted PEM private key") from None
    if _public(key.public_key()) != _public(cert.public_key()):
        raise _BadFileError(
            f"tls.key {tls.key} does not belong to tls.cert {tls.cert}; use the key issued "
            "with that certificate"
        )


def _public(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
