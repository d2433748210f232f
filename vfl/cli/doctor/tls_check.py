"""The TLS handshake with the coordinator: its certificate chains to our CA and names the
host party.toml dials. Returns the coordinator's certificate for the expiry check."""

from __future__ import annotations

import socket
import ssl

from cryptography import x509

from vfl.cli.doctor.address import Address
from vfl.cli.doctor.check import CheckResult, failed, passed
from vfl.config.coordinator_config import TlsFiles

NAME = "tls"
TIMEOUT_S = 10.0


def handshake(address: Address, tls: TlsFiles) -> tuple[CheckResult, x509.Certificate | None]:
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.load_cert_chain(str(tls.cert), str(tls.key))
    try:
        with (
            socket.create_connection((address.host, address.port), timeout=TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=address.host) as conn,
        ):
            der = conn.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as exc:
        return failed(NAME, _verification(address, tls, exc)), None
    except (ssl.SSLError, OSError) as exc:
        return failed(
            NAME,
            f"no TLS handshake with {address}: {exc.strerror or exc}; is this the "
            "coordinator's port (not a proxy terminating TLS)?",
        ), None
    if der is None:
        return failed(NAME, f"{address} sent no certificate; is it the coordinator?"), None
    cert = x509.load_der_x509_certificate(der)
    return passed(NAME, f"{address} proves its name with a certificate from {tls.ca.name}"), cert


def _verification(address: Address, tls: TlsFiles, exc: ssl.SSLCertVerificationError) -> str:
    reason = exc.verify_message or str(exc)
    if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
        return (
            f"the coordinator's certificate does not name {address.host!r} "
            f"({address.source}): dial a name it carries, or reissue it with "
            f"`vfl certs init --coordinator {address.host}`"
        )
    if "expired" in reason.lower():
        return (
            f"the coordinator's certificate has expired ({reason}); the coordinator's "
            "operator must renew it"
        )
    return (
        f"the coordinator's certificate does not verify against tls.ca {tls.ca} ({reason}); "
        "use the federation's ca.pem"
    )
