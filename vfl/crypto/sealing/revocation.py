"""The federation's certificate revocation list (an X.509 CRL signed by the CA's key).

The CA operator writes it (`vfl certs revoke`); the coordinator reloads it from disk when it
changes and refuses revoked client certificates; it also forwards the CRL's bytes to the
parties in every job update, and they refuse a peer's sealing statement signed with a
revoked certificate. Every holder checks the CA's signature itself, so a hostile relay
cannot forge or trim a CRL. It can withhold a newer one, or resend an older one: a party
keeps the highest CRL number it has seen and never goes back (`PeerRevocations`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from vfl.errors import ConfigError, CryptoError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RevocationList:
    """The serials a CA-signed CRL revokes, and its number (higher is newer)."""

    number: int
    serials: frozenset[int]
    der: bytes
    """The CRL as the CA signed it, to forward unchanged."""

    @classmethod
    def parse(cls, data: bytes, ca_pem: bytes, source: str) -> RevocationList:
        """The CRL in `data` (PEM or DER) if the CA in `ca_pem` signed it; CryptoError if not."""
        try:
            crl = (
                x509.load_pem_x509_crl(data)
                if data.lstrip().startswith(b"-----")
                else x509.load_der_x509_crl(data)
            )
            ca = x509.load_pem_x509_certificate(ca_pem)
        except ValueError:
            raise CryptoError(f"{source}: not an X.509 CRL; re-run `vfl certs crl`") from None
        public = ca.public_key()
        if crl.issuer != ca.subject or not isinstance(public, ec.EllipticCurvePublicKey):
            raise CryptoError(f"{source}: CRL issued by {crl.issuer.rfc4514_string()}, not this CA")
        if not crl.is_signature_valid(public):
            raise CryptoError(f"{source}: CRL signature is not the federation CA's; refusing it")
        try:
            number = int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
        except x509.ExtensionNotFound:
            raise CryptoError(f"{source}: CRL has no CRL number; re-run `vfl certs crl`") from None
        serials = frozenset(r.serial_number for r in crl)
        return cls(number, serials, crl.public_bytes(serialization.Encoding.DER))

    def revoked(self, serial: int) -> bool:
        return serial in self.serials


class CrlFile:
    """A CRL on disk, reloaded when its modification time or size changes.

    Checked on every call (`current`, one `stat`), so a revocation takes effect on the next
    call after the file is replaced, without a restart. A replacement that does not parse
    or is not the CA's is refused loudly and the last good list stays in force.
    """

    def __init__(self, path: Path, ca_pem: bytes) -> None:
        self.path, self._ca_pem = path, ca_pem
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        try:
            self._list = RevocationList.parse(path.read_bytes(), ca_pem, f"tls.crl {path}")
        except OSError as exc:
            raise ConfigError(f"tls.crl: cannot read {path} ({exc.strerror})") from None
        except CryptoError as exc:
            raise ConfigError(str(exc)) from None
        self._seen = _stamp(path)

    def current(self) -> RevocationList:
        try:
            stamp = _stamp(self.path)
        except OSError:
            return self._list  # mid-replace or removed: keep what we had
        with self._lock:
            if stamp == self._seen:
                return self._list
            self._seen = stamp
            try:
                fresh = RevocationList.parse(self.path.read_bytes(), self._ca_pem, str(self.path))
            except (OSError, CryptoError) as exc:
                log.error("revocation list not reloaded, the previous one stays: %s", exc)
                return self._list
            if fresh.number < self._list.number:
                log.error(
                    "%s: CRL number %d is older than the loaded %d; keeping the newer one",
                    self.path,
                    fresh.number,
                    self._list.number,
                )
                return self._list
            self._list = fresh
            log.info("revocation list %d loaded: %d revoked", fresh.number, len(fresh.serials))
            return fresh

    def revoked(self, serial: int) -> bool:
        return self.current().revoked(serial)


class PeerRevocations:
    """A party's view of the CRL: the newest CA-signed one it was offered, never older."""

    def __init__(self, ca_pem: bytes, initial: RevocationList | None = None) -> None:
        self._ca_pem = ca_pem
        self._lock = threading.Lock()
        self._list = initial

    def offer(self, data: bytes, source: str) -> None:
        """Take the CRL in `data` if it is the CA's and newer; CryptoError if it is forged."""
        if not data:
            return  # the coordinator has none (or withholds it): keep ours
        with self._lock:
            if self._list is not None and data == self._list.der:
                return  # every job update forwards it: verify a list once, not per update
        fresh = RevocationList.parse(data, self._ca_pem, source)
        with self._lock:
            if self._list is None or fresh.number > self._list.number:
                self._list = fresh

    def revoked(self, serial: int) -> bool:
        with self._lock:
            return self._list is not None and self._list.revoked(serial)

    @property
    def number(self) -> int | None:
        with self._lock:
            return None if self._list is None else self._list.number


def _stamp(path: Path) -> tuple[int, int, int]:
    """Changes when the file is replaced (new inode) or rewritten (time, size)."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size
