"""The real `EnvelopeSealer`: per-job pairwise keys, counters as nonces, replay checks.

A party admits a job once it has its peers' key statements (from the coordinator, verified
here against the party's own copy of the CA), then seals every body it sends to a peer and
opens every body it receives. What each check defends against:

- the header as associated data: a body moved to another message, kind, pair or job;
- the tag: tampering and truncation;
- a counter that never repeats per (job, sender, receiver) and survives restarts: no nonce
  is ever reused, even when a resumed program re-sends a sequence number with different
  bytes (see counters.py);
- the receiver's record of counters seen per (job, sender): a counter arriving on a second
  sequence number means a sender reused a nonce or a body was replayed — refused.
Identical duplicates never get here: channels drop a (job, src, seq) seen before, unopened.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from vfl.crypto.sealing.counters import NonceCounters
from vfl.crypto.sealing.identity_key import IdentityKey
from vfl.crypto.sealing.key_statement import KeyStatement, verify_statement
from vfl.crypto.sealing.pair_key import derive_pair_key
from vfl.crypto.sealing.revocation import CrlFile, PeerRevocations
from vfl.crypto.sealing.sealed_body import open_body, seal_body
from vfl.errors import CryptoError, ProtocolError
from vfl.protocol.envelope import Envelope

SEALING_NAME = "x25519-chacha20poly1305"
COUNTER_BLOCK = 1024
"""Counters reserved per durable write; a restart skips what is left of a block."""


@dataclass
class _JobKeys:
    out: dict[str, ChaCha20Poly1305] = field(default_factory=dict)  # by receiver
    into: dict[str, ChaCha20Poly1305] = field(default_factory=dict)  # by sender
    seen: dict[tuple[str, int], str] = field(default_factory=dict)  # (src, counter) -> seq
    publics: dict[str, bytes] = field(default_factory=dict)


def job_digest(spec_json: str | bytes) -> bytes:
    """The HKDF salt: a digest of the job spec exactly as the party received it."""
    data = spec_json.encode() if isinstance(spec_json, str) else spec_json
    return hashlib.sha256(data).digest()


class SealerBase:
    """Sealing and opening with a job's admitted keys; subclasses say where keys come from."""

    name = SEALING_NAME

    def __init__(
        self,
        party: str,
        ca_pem: bytes,
        counters: NonceCounters,
        revocations: PeerRevocations | CrlFile | None = None,
    ) -> None:
        self.party = party
        # the CA's revocation list: a peer whose statement's certificate is on it is refused
        self.revocations: PeerRevocations | CrlFile = revocations or PeerRevocations(ca_pem)
        self._ca_pem = ca_pem
        self._counters = counters
        self._lock = threading.Lock()
        self._jobs: dict[str, _JobKeys] = {}
        self._next: dict[tuple[str, str], tuple[int, int]] = {}  # (job, dst) -> (next, end)

    def _install(self, job_id: str, keys: _JobKeys) -> None:
        with self._lock:
            old = self._jobs.get(job_id)
            if old is not None and old.publics == keys.publics:
                return  # admitted again (every job update carries the keys): keep the record
            self._jobs[job_id] = keys

    def _pair(
        self,
        keys: _JobKeys,
        job_id: str,
        digest: bytes,
        peer: str,
        shared: bytes,
        mine: bytes,
        theirs: bytes,
    ) -> None:
        out = derive_pair_key(shared, job_id, digest, self.party, peer, mine, theirs)
        into = derive_pair_key(shared, job_id, digest, peer, self.party, theirs, mine)
        keys.out[peer], keys.into[peer] = ChaCha20Poly1305(out), ChaCha20Poly1305(into)
        keys.publics[peer] = theirs

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
            for key in [k for k in self._next if k[0] == job_id]:
                del self._next[key]

    # -- EnvelopeSealer ----------------------------------------------------------------
    def seal(self, envelope: Envelope) -> Envelope:
        aead = self._keys(envelope.job_id, envelope.dst, "out")
        counter = self._counter(envelope.job_id, envelope.dst)
        return replace(envelope, body=seal_body(aead, counter, envelope))

    def open(self, envelope: Envelope) -> Envelope:
        aead = self._keys(envelope.job_id, envelope.src, "into")
        counter, body = open_body(aead, envelope)
        with self._lock:
            keys = self._jobs.get(envelope.job_id)
            first = envelope.seq
            if keys is not None:  # None only if the job was forgotten while this opened
                first = keys.seen.setdefault((envelope.src, counter), envelope.seq)
        if first != envelope.seq:
            raise ProtocolError(
                f"message {envelope.seq} from {envelope.src} (job {envelope.job_id}): its "
                f"sealing counter was already used by message {first} (a replayed body or a "
                "reused nonce); refusing it"
            )
        return replace(envelope, body=body)

    # -- internals ---------------------------------------------------------------------
    def _keys(self, job_id: str, peer: str, direction: str) -> ChaCha20Poly1305:
        with self._lock:
            keys = self._jobs.get(job_id)
        table = None if keys is None else (keys.out if direction == "out" else keys.into)
        if table is None or peer not in table:
            raise ProtocolError(
                f"job {job_id}: no sealing key for peer {peer!r} (the job's key statements "
                "were not admitted, or it does not name that party)"
            )
        return table[peer]

    def _counter(self, job_id: str, dst: str) -> int:
        with self._lock:
            nxt, end = self._next.get((job_id, dst), (0, 0))
            if nxt >= end:
                nxt = self._counters.reserve(job_id, dst, COUNTER_BLOCK)
                end = nxt + COUNTER_BLOCK
            self._next[(job_id, dst)] = (nxt + 1, end)
            return nxt


class PairwiseSealer(SealerBase):
    """Pairwise keys from the parties' long-term X25519 keys (no forward secrecy)."""

    def __init__(
        self,
        party: str,
        identity: IdentityKey,
        ca_pem: bytes,
        counters: NonceCounters,
        revocations: PeerRevocations | CrlFile | None = None,
    ) -> None:
        super().__init__(party, ca_pem, counters, revocations)
        self._identity = identity

    def admit(
        self, job_id: str, digest: bytes, peers: Iterable[str], statements: Iterable[KeyStatement]
    ) -> None:
        """Verify each peer's statement and derive the job's keys; CryptoError if any fails."""
        by_party = {s.party: s for s in statements}
        keys = _JobKeys()
        mine = self._identity.public_bytes
        for peer in sorted(set(peers) - {self.party}):
            statement = by_party.get(peer)
            if statement is None:
                raise CryptoError(
                    f"job {job_id}: peer {peer} published no sealing key; every party node of "
                    "a job must seal (party.toml: seal = true, with [tls])"
                )
            public = verify_statement(
                statement, peer, self._ca_pem, revoked=self.revocations.revoked
            )
            try:
                shared = self._identity.exchange(public)
            except ValueError:
                raise CryptoError(f"peer {peer}: its sealing key is a degenerate point") from None
            self._pair(keys, job_id, digest, peer, shared, mine, statement.public_key)
        self._install(job_id, keys)
