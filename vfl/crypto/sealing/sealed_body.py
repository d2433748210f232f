"""The sealed body's bytes: version, counter, ciphertext and tag.

    0x01 | counter (8 bytes, big-endian) | ChaCha20-Poly1305(nonce, body, header) (+16)

The nonce is four zero bytes and the counter; the associated data is the envelope header
(job, src, dst, kind, seq), so a body moved to another message, kind, pair or job fails
its tag. The counter travels in clear: the receiver needs it to rebuild the nonce.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from vfl.crypto.sealing.encoding import framed
from vfl.errors import ProtocolError
from vfl.protocol.envelope import Envelope

VERSION = 1
PREFIX_BYTES = 9
TAG_BYTES = 16
MAX_COUNTER = (1 << 64) - 1
AAD_LABEL = b"vfl/seal/v1"


def associated_data(envelope: Envelope) -> bytes:
    e = envelope
    return framed(AAD_LABEL, e.job_id, e.src, e.dst, e.kind, e.seq)


def nonce(counter: int) -> bytes:
    return bytes(4) + counter.to_bytes(8, "big")


def seal_body(aead: ChaCha20Poly1305, counter: int, envelope: Envelope) -> bytes:
    if not 0 <= counter <= MAX_COUNTER:
        raise ProtocolError(f"job {envelope.job_id}: sealing counter exhausted")
    sealed = aead.encrypt(nonce(counter), envelope.body, associated_data(envelope))
    return bytes([VERSION]) + counter.to_bytes(8, "big") + sealed


def open_body(aead: ChaCha20Poly1305, envelope: Envelope) -> tuple[int, bytes]:
    """(counter, plaintext body) of a sealed envelope; ProtocolError if it does not open."""
    where = f"message {envelope.seq} from {envelope.src} (job {envelope.job_id})"
    body = envelope.body
    if len(body) < PREFIX_BYTES + TAG_BYTES:
        raise ProtocolError(
            f"{where}: sealed body truncated ({len(body)} bytes, at least "
            f"{PREFIX_BYTES + TAG_BYTES}); refusing it"
        )
    if body[0] != VERSION:
        raise ProtocolError(
            f"{where}: body is not sealed (format byte {body[0]}); every party of a job must "
            "seal (party.toml: seal = true)"
        )
    counter = int.from_bytes(body[1:PREFIX_BYTES], "big")
    try:
        plain = aead.decrypt(nonce(counter), body[PREFIX_BYTES:], associated_data(envelope))
    except InvalidTag:
        raise ProtocolError(
            f"{where}: sealed body failed authentication (tampered, truncated, moved from "
            "another message or job, or sealed under another key); refusing it"
        ) from None
    return counter, plain
