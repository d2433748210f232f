"""The CA operator's side of enrolment: the CA, what it issued, and its revocation list.

A CA folder holds `ca.pem`, `ca.key` (0600; keep the folder offline), `issued.json` (every
certificate issued: name, role, serial, key fingerprint, expiry, revocation) and `crl.pem`
(signed by the CA, rewritten on every revocation). Parties and the coordinator make their
own keys (`cert_request.py`) and send only a CSR here, so no private key but the CA's is
ever in this folder. `issued.json` is what lets `sign` refuse a second live certificate
for a name already issued, unless the operator says `renew`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from coordinator.certs import (
    COORDINATOR_NAME,
    OPERATOR,
    RESERVED,
    Role,
    ca_certificate,
    issued_entry,
    key_fingerprint,
    leaf_certificate,
    write_cert,
    write_key,
)
from coordinator.certs import PARTY_NAME as NAME_RULE
from vfl.errors import ConfigError

CRL_DAYS = 365


@dataclass(frozen=True)
class Issued:
    """One certificate the CA signed, as `issued.json` records it."""

    serial: str  # hex
    name: str
    role: str  # a Role
    fingerprint: str
    not_after: str  # ISO 8601
    revoked: str | None = None  # ISO 8601 when revoked

    def live(self, now: dt.datetime) -> bool:
        return self.revoked is None and dt.datetime.fromisoformat(self.not_after) > now


@dataclass(frozen=True)
class SigningRequest:
    """What a CSR asks for, checked; shown to the CA operator before signing."""

    name: str
    role: Role
    hosts: tuple[str, ...]
    fingerprint: str
    csr: x509.CertificateSigningRequest


class CertificateAuthority:
    """A CA folder: sign CSRs, revoke, write the CRL."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for need in ("ca.pem", "ca.key"):
            if not (folder / need).exists():
                raise ConfigError(f"{folder / need}: not found; run `vfl certs ca init --ca DIR`")
        self.cert = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"{folder / 'ca.key'}: not an EC key")
        self._key = key

    @classmethod
    def create(cls, folder: Path, days: int = 3650) -> CertificateAuthority:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        if (folder / "ca.key").exists() or (folder / "ca.pem").exists():
            raise ConfigError(f"{folder / 'ca.pem'}: already exists; choose an empty --ca folder")
        cert, key = ca_certificate(days)
        write_cert(folder / "ca.pem", cert)
        write_key(folder / "ca.key", key)
        ca = cls(folder)
        ca._save([], 0)
        ca.write_crl()
        return ca

    # -- state -------------------------------------------------------------------------
    def issued(self) -> list[Issued]:
        return [Issued(**row) for row in self._state()["certificates"]]

    def _state(self) -> dict[str, Any]:
        path = self.folder / "issued.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return {"certificates": []}
        except (ValueError, OSError) as exc:
            raise ConfigError(f"{path}: unreadable ({exc}); restore it from a backup") from None
        if not isinstance(data, dict) or not isinstance(data.get("certificates"), list):
            raise ConfigError(f"{path}: not an issued-certificates record; restore it")
        return data

    def _crl_number(self) -> int:
        number = self._state().get("crl_number", 0)
        return number if isinstance(number, int) else 0

    def _save(self, rows: list[Issued], crl_number: int) -> None:
        path = self.folder / "issued.json"
        tmp = path.with_suffix(".tmp")
        body = {"crl_number": crl_number, "certificates": [asdict(r) for r in rows]}
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        tmp.replace(path)

    # -- signing -----------------------------------------------------------------------
    def inspect(self, csr_pem: bytes, source: str) -> SigningRequest:
        """The checked request in `csr_pem`; ConfigError naming what is wrong."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError:
            raise ConfigError(
                f"{source}: not a PEM CSR; make one with `vfl certs request`"
            ) from None
        if not csr.is_signature_valid:
            raise ConfigError(f"{source}: the CSR's signature does not match its key")
        public = csr.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
            raise ConfigError(
                f"{source}: key is {type(public).__name__}; `vfl certs request` makes EC P-256"
            )
        cns = [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        ous = [
            str(a.value)
            for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        ]
        if len(cns) != 1 or len(ous) != 1 or ous[0] not in Role.__members__.values():
            raise ConfigError(f"{source}: subject must have one CN and one OU (party, ...)")
        name, role = cns[0], Role(ous[0])
        if role is Role.COORDINATOR:
            if name != COORDINATOR_NAME:
                raise ConfigError(f"{source}: a coordinator certificate is named 'coordinator'")
        elif role is Role.OPERATOR:
            if name != OPERATOR:
                raise ConfigError(f"{source}: an operator certificate is named 'operator'")
        elif not NAME_RULE.match(name) or name in RESERVED:
            raise ConfigError(
                f"{source}: name {name!r} is invalid or reserved; use lowercase letters, "
                "digits, '-' and '_' (not operator, coordinator or ca)"
            )
        hosts: tuple[str, ...] = ()
        try:
            san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            hosts = tuple(san.get_values_for_type(x509.DNSName)) + tuple(
                str(ip) for ip in san.get_values_for_type(x509.IPAddress)
            )
        except x509.ExtensionNotFound:
            pass
        if role is Role.COORDINATOR and not hosts:
            raise ConfigError(f"{source}: a coordinator CSR names its hosts (--hosts)")
        return SigningRequest(name, role, hosts, key_fingerprint(public), csr)

    def sign(self, request: SigningRequest, renew: bool, days: int = 825) -> x509.Certificate:
        """Issue the certificate; ConfigError if the name has a live one and not `renew`."""
        now = dt.datetime.now(dt.UTC)
        rows = self.issued()
        live = [r for r in rows if r.name == request.name and r.live(now)]
        if live and not renew:
            raise ConfigError(
                f"{request.name}: already issued (serial {live[-1].serial}, until "
                f"{live[-1].not_after[:10]}); pass --renew to issue another, then "
                f"`vfl certs revoke --serial {live[-1].serial}` once the party uses the new one"
            )
        hosts = list(request.hosts) if request.role is Role.COORDINATOR else [request.name]
        usage = (
            ExtendedKeyUsageOID.SERVER_AUTH
            if request.role is Role.COORDINATOR
            else ExtendedKeyUsageOID.CLIENT_AUTH
        )
        public = request.csr.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey), "checked by inspect"
        cert = leaf_certificate(
            request.name, request.role, public, hosts, usage, self.cert, self._key, days
        )
        row = Issued(**issued_entry(cert))  # type: ignore[arg-type]
        self._save([*rows, row], self._crl_number())
        return cert

    # -- revocation --------------------------------------------------------------------
    def revoke(self, name: str | None = None, serial: str | None = None) -> list[Issued]:
        """Revoke one serial, or every live certificate of `name`; rewrite the CRL."""
        now = dt.datetime.now(dt.UTC)
        rows = self.issued()
        hits = [
            r
            for r in rows
            if r.revoked is None
            and (r.serial == (serial or "").lower().lstrip("0") or (name and r.name == name))
        ]
        if not hits:
            what = f"serial {serial}" if serial else f"name {name!r}"
            raise ConfigError(f"{what}: no unrevoked certificate; `vfl certs list` shows them")
        stamp = now.isoformat()
        done = {r.serial for r in hits}
        rows = [Issued(**{**asdict(r), "revoked": stamp}) if r.serial in done else r for r in rows]
        self._save(rows, self._crl_number())
        self.write_crl()
        return [r for r in rows if r.serial in done]

    def write_crl(self) -> Path:
        """Sign a new CRL (next number) listing every revoked serial; write crl.pem."""
        now = dt.datetime.now(dt.UTC)
        number = self._crl_number() + 1
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - dt.timedelta(minutes=5))
            .next_update(now + dt.timedelta(days=CRL_DAYS))
            .add_extension(x509.CRLNumber(number), critical=False)
        )
        rows = self.issued()
        for r in rows:
            if r.revoked is not None:
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder()
                    .serial_number(int(r.serial, 16))
                    .revocation_date(dt.datetime.fromisoformat(r.revoked))
                    .build()
                )
        crl = builder.sign(self._key, hashes.SHA256())
        path = self.folder / "crl.pem"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        tmp.replace(path)
        self._save(rows, number)
        return path
