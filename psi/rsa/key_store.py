"""The RSA-PSI signer's key pair for one job: generated once, kept on its own disk.

A signer restarted alone mid-align is handed, from its inbox journal, the blinded values
its client already sent for the public key it had; it must sign them with that key and
re-send the same tags. So the pair is written 0600 in the workspace's private folder
(`Workspace.private`) the first time and reloaded after a restart, like the Paillier key
(vfl/algorithms/split/paillier/phase_keys.py). It is never sent or logged; only n and e
cross the wire. The file is small JSON with hex primes, so loading runs no deserialiser.
"""

from __future__ import annotations

import hashlib
import json

import gmpy2

from psi.rsa.keys import EXPONENT, PrivateKey, PublicKey
from vfl.errors import CryptoError
from vfl.runtime.workspace import Workspace

_FORMAT = "vfl-psi-rsa-keypair-v1"


def key_file(job_id: str) -> str:
    return f"psi-rsa-{hashlib.sha256(job_id.encode()).hexdigest()[:16]}.key"


def to_bytes(key: PrivateKey) -> bytes:
    return json.dumps({"format": _FORMAT, "p": f"{key.p:x}", "q": f"{key.q:x}"}).encode()


def from_bytes(data: bytes, where: str) -> PrivateKey:
    """Parse and check a stored pair; `where` names the file for the error message."""
    fix = "the file is damaged; this align cannot resume, restart the job"
    try:
        doc = json.loads(data)
        if doc.get("format") != _FORMAT:
            raise ValueError("unknown format")
        p, q = int(doc["p"], 16), int(doc["q"], 16)
    except (ValueError, KeyError, TypeError) as exc:
        raise CryptoError(f"{where}: not a stored RSA-PSI key pair ({exc}); {fix}") from None
    if p == q or not (gmpy2.is_prime(p) and gmpy2.is_prime(q)):
        raise CryptoError(f"{where}: the stored primes are not two distinct primes; {fix}")
    phi = (p - 1) * (q - 1)
    if gmpy2.gcd(EXPONENT, phi) != 1:
        raise CryptoError(f"{where}: the stored primes do not fit exponent {EXPONENT}; {fix}")
    d = int(gmpy2.invert(EXPONENT, phi))
    qinv = int(gmpy2.invert(q, p))
    return PrivateKey(PublicKey(p * q, EXPONENT), p, q, d % (p - 1), d % (q - 1), qinv)


def job_key(workspace: Workspace, job_id: str, bits: int) -> PrivateKey:
    """This job's signing key: `PrivateKey.generate(bits)` the first time, then reloaded."""
    name = key_file(job_id)
    data = workspace.private(name, lambda: to_bytes(PrivateKey.generate(bits)))
    return from_bytes(data, f"{workspace.root / 'private' / name}")
