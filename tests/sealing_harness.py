"""Sealers for the tests: a throwaway PKI, parties' keys and statements, and the tools
an observer of the relay would use (a chi-square test of byte frequencies, keys that the
coordinator could derive) to check that sealed bodies tell it nothing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from coordinator.certs import init_pki
from vfl.crypto.sealing import IdentityKey, KeyStatement, MemoryCounters, PairwiseSealer
from vfl.crypto.sealing.counters import NonceCounters
from vfl.crypto.sealing.pair_key import derive_pair_key
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.crypto.sealing.sealed_body import PREFIX_BYTES

SPEC_JSON = '{"job": "test"}'
CHI2_LIMIT = 400.0
"""Chi-square statistic (255 degrees of freedom) above which bytes are called non-uniform:
uniform bytes exceed it with probability ~1e-8 (mean 255, sd 22.6)."""


@dataclass
class Federation:
    pki: Path
    keys: dict[str, IdentityKey]
    statements: dict[str, KeyStatement]

    @property
    def ca(self) -> bytes:
        return (self.pki / "ca.pem").read_bytes()

    def sealer(self, party: str, counters: NonceCounters | None = None) -> PairwiseSealer:
        return PairwiseSealer(party, self.keys[party], self.ca, counters or MemoryCounters())

    def admitted(
        self, party: str, jobs: tuple[str, ...], counters: NonceCounters | None = None
    ) -> PairwiseSealer:
        sealer = self.sealer(party, counters)
        for job in jobs:
            sealer.admit(job, job_digest(SPEC_JSON), self.keys, self.statements.values())
        return sealer


def federation(tmp: Path, parties: tuple[str, ...] = ("a", "b")) -> Federation:
    pki = tmp / "pki"
    init_pki(pki, ["127.0.0.1"], list(parties))
    keys = {p: IdentityKey.generate() for p in parties}
    statements = {
        p: keys[p].statement(p, (pki / f"{p}.pem").read_bytes(), (pki / f"{p}.key").read_bytes())
        for p in parties
    }
    return Federation(pki, keys, statements)


def chi_square(data: bytes) -> float:
    """Pearson's statistic of the byte histogram against the uniform distribution."""
    expected = len(data) / 256
    counts = Counter(data)
    return sum((counts.get(b, 0) - expected) ** 2 / expected for b in range(256))


def ciphertext_of(body: bytes) -> bytes:
    """A sealed body without its clear prefix (format byte and counter)."""
    return body[PREFIX_BYTES:]


def coordinator_keys(
    statements: dict[str, KeyStatement], job_id: str, spec_json: str
) -> list[bytes]:
    """Every AEAD key the coordinator could compute for the job's pairs from what it holds:
    the published statements, the spec, a private key of its own, and no-secret guesses."""
    own = X25519PrivateKey.generate()
    keys: list[bytes] = []
    for src, s in statements.items():
        for dst, d in statements.items():
            if src == dst:
                continue
            guesses = [
                own.exchange(X25519PublicKey.from_public_bytes(s.public_key)),
                own.exchange(X25519PublicKey.from_public_bytes(d.public_key)),
                bytes(32),
                s.public_key,
                d.public_key,
            ]
            digest = job_digest(spec_json)
            keys += [
                derive_pair_key(g, job_id, digest, src, dst, s.public_key, d.public_key)
                for g in guesses
            ]
    return keys


def true_key(fed: Federation, job_id: str, src: str, dst: str, spec_json: str) -> bytes:
    """The key only the two parties can derive: the positive control of `opens_with_any`."""
    theirs = X25519PublicKey.from_public_bytes(fed.keys[dst].public_bytes)
    shared = fed.keys[src].exchange(theirs)
    pubs = fed.keys[src].public_bytes, fed.keys[dst].public_bytes
    return derive_pair_key(shared, job_id, job_digest(spec_json), src, dst, *pubs)


def opens_with_any(key_list: list[bytes], body: bytes, aad: bytes) -> bool:
    nonce = bytes(4) + body[1:PREFIX_BYTES]
    for key in key_list:
        try:
            ChaCha20Poly1305(key).decrypt(nonce, body[PREFIX_BYTES:], aad)
        except Exception:
            continue
        return True
    return False
