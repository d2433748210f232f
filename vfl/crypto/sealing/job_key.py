"""A party's fresh X25519 key for one job, signed by its long-term identity (forward secrecy).

Pairwise keys derived from long-term keys open every body ever recorded once a long-term
key leaks. So each party makes a new X25519 key per job (`JobKeys`, kept 0600 in the job's
private state so a restarted node resumes with the same key, erased when the job is
purged), and signs its public half with its certificate key, as it signs its long-term
key (key_statement.py) but under a context that names the job and the digest of its spec:
a per-job statement never passes for a long-term one, nor for another job's. Once the job
ends and its key is erased, nothing the party keeps — its certificate key, its long-term
X25519 key, its state folder — re-derives the job's pairwise keys.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from vfl.crypto.sealing.encoding import framed
from vfl.crypto.sealing.key_statement import KeyStatement, sign_statement, verify_statement
from vfl.errors import CryptoError

JOB_LABEL = b"vfl/x25519-job-key/v1"
PRIVATE_BYTES = 32


def job_context(job_id: str, digest: bytes) -> bytes:
    """The signature context of a per-job key: the job and the spec both parties got."""
    return framed(JOB_LABEL, job_id, digest)


def new_private() -> bytes:
    """32 fresh bytes from the OS: nothing a peer or the coordinator knows goes in."""
    return os.urandom(PRIVATE_BYTES)


def private_key(raw: bytes, where: str) -> X25519PrivateKey:
    if len(raw) != PRIVATE_BYTES:
        raise CryptoError(
            f"{where}: per-job sealing key has {len(raw)} bytes, expected {PRIVATE_BYTES}; "
            "the file is damaged — the job cannot resume, run it again"
        )
    return X25519PrivateKey.from_private_bytes(raw)


def public_bytes(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_job_key(
    party: str,
    job_id: str,
    digest: bytes,
    key: X25519PrivateKey,
    certificate_pem: bytes,
    signing_key_pem: bytes,
) -> KeyStatement:
    context = job_context(job_id, digest)
    return sign_statement(party, public_bytes(key), certificate_pem, signing_key_pem, context)


def verify_job_key(
    statement: KeyStatement,
    expected_party: str,
    job_id: str,
    digest: bytes,
    ca_pem: bytes,
    now: dt.datetime | None = None,
    revoked: Callable[[int], bool] | None = None,
) -> X25519PublicKey:
    """The peer's per-job key if its certificate signed it for this job; CryptoError if not
    (also when `revoked` says the certificate's serial is on the CA's revocation list)."""
    return verify_statement(
        statement, expected_party, ca_pem, now, revoked, job_context(job_id, digest)
    )
