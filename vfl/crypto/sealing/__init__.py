"""End-to-end sealing of envelope bodies between two parties of a job.

Each party holds a long-term X25519 key bound to its mTLS certificate by a signed key
statement, and (`JobKeySealer`, forward secret) a fresh X25519 key per job signed the same
way and erased when the job is purged; per job and direction the two ends derive a
ChaCha20-Poly1305 key (X25519 + HKDF over the job and both names) and seal every body
with the envelope header as associated data and a never-repeating counter as nonce. The
coordinator relays what it can neither read nor forge. docs/architecture.md ("Sealed
envelopes") has the reasoning.
"""

from vfl.crypto.sealing.counters import MemoryCounters, NonceCounters
from vfl.crypto.sealing.identity_key import IdentityKey
from vfl.crypto.sealing.job_keys import FileJobKeys, JobKeys, MemoryJobKeys
from vfl.crypto.sealing.job_sealer import JobKeySealer
from vfl.crypto.sealing.key_statement import KeyStatement, verify_statement
from vfl.crypto.sealing.pairwise_sealer import SEALING_NAME, PairwiseSealer

__all__ = [
    "SEALING_NAME",
    "FileJobKeys",
    "IdentityKey",
    "JobKeySealer",
    "JobKeys",
    "KeyStatement",
    "MemoryCounters",
    "MemoryJobKeys",
    "NonceCounters",
    "PairwiseSealer",
    "verify_statement",
]
