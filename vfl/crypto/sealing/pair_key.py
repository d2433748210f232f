"""One AEAD key per job and direction, from the two parties' long-term X25519 keys.

Both ends compute the same X25519 secret and expand it with HKDF-SHA256. The info names
the purpose, the job, the sender, the receiver and both public keys, so the key for
a→b differs from b→a, from every other job and from every other pair; the salt is a
digest of the job spec both parties received, so two parties given different specs for
one job id cannot talk at all rather than talk about different things.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vfl.crypto.sealing.encoding import framed

INFO_LABEL = b"vfl/seal/v1/chacha20poly1305"


def derive_pair_key(
    shared: bytes,
    job_id: str,
    job_digest: bytes,
    src: str,
    dst: str,
    src_public: bytes,
    dst_public: bytes,
) -> bytes:
    """The 32-byte ChaCha20-Poly1305 key for bodies `src` seals for `dst` in `job_id`."""
    info = framed(INFO_LABEL, job_id, src, dst, src_public, dst_public)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=job_digest, info=info).derive(shared)
