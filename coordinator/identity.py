"""Who is calling: read from the verified client certificate, never from the request.

With `insecure = true` (loopback development only) there is no certificate; the caller
names itself in the `vfl-identity` metadata header, which is acceptable only because
nothing but local processes can reach a loopback port.

The TLS handshake checks only that the CA issued the certificate; gRPC's server credentials
cannot consult a CRL. So the revocation check is here, on every call (a `stat` of the CRL
file, reloaded when it changed): a revoked certificate is refused at its next call and its
live stream is closed by the party servicer.
"""

from __future__ import annotations

import grpc

from coordinator.certs import PARTY_NAME, Identity, identity_from_pem
from coordinator.errors import AccessDeniedError
from vfl.crypto.sealing.revocation import CrlFile

INSECURE_HEADER = "vfl-identity"


def peer_identity(
    context: grpc.ServicerContext, insecure: bool, revocations: CrlFile | None = None
) -> Identity:
    if insecure:
        name = dict(context.invocation_metadata()).get(INSECURE_HEADER, "")
        if not isinstance(name, str) or not (PARTY_NAME.match(name) or name == "operator"):
            raise AccessDeniedError(f"insecure mode: send a valid {INSECURE_HEADER} header")
        return Identity(name, "operator" if name == "operator" else "party")
    pems = context.auth_context().get("x509_pem_cert", [])
    if not pems:
        raise AccessDeniedError("no client certificate; connect with the party's certificate")
    identity = identity_from_pem(pems[0])
    if identity.role not in ("party", "operator") or not PARTY_NAME.match(identity.name):
        raise AccessDeniedError(
            f"certificate {identity.name!r} (role {identity.role or 'none'}) may not call the "
            "coordinator; use a party or operator certificate from `vfl certs init`"
        )
    refuse_revoked(identity, revocations)
    return identity


def refuse_revoked(identity: Identity, revocations: CrlFile | None) -> None:
    """AccessDeniedError if the CA revoked `identity`'s certificate."""
    if revocations is not None and revocations.current().revoked(identity.serial):
        raise AccessDeniedError(
            f"certificate of {identity.name} (serial {identity.serial:x}) is revoked by the "
            "federation CA; install a renewed one (`vfl certs request --renew`, then "
            "`vfl certs sign`)"
        )
