"""The attacker of the forward-secrecy tests: it recorded a finished job's relayed bodies
(as the coordinator does) and later stole every party's long-term keys and state folder.

It tries every X25519 private key it can find or compute — each key-shaped file and PEM
key in the stolen folders, each long-term key, and each per-job key a careless
implementation would derive from a long-term key — against every public key it saw
(the parties' long-term statements and per-job statements), derives the pairwise keys as
the parties do, and counts the recorded bodies that open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from tests.sealing_harness import SPEC_JSON, opens_with_any
from vfl.crypto.sealing.key_statement import KeyStatement
from vfl.crypto.sealing.pair_key import derive_pair_key
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.crypto.sealing.sealed_body import associated_data
from vfl.protocol.envelope import Envelope


def derived_from_long_term(long_term: bytes, job_id: str) -> bytes:
    """The broken per-job key: a function of the long-term key and the job (no randomness)."""
    return hashlib.sha256(long_term + job_id.encode()).digest()


@dataclass(frozen=True)
class Loot:
    """What the attacker holds once the job is over."""

    state_dirs: tuple[Path, ...]
    """Every party's state folder, as it is after the job was purged."""
    long_term: tuple[bytes, ...]
    """Every party's long-term X25519 private key (raw 32 bytes)."""
    publics: tuple[KeyStatement, ...]
    """Every statement the coordinator relayed: long-term and per-job."""


def _private_candidates(loot: Loot, job_id: str) -> list[X25519PrivateKey]:
    raws = list(loot.long_term)
    raws += [derived_from_long_term(k, job_id) for k in loot.long_term]
    for folder in loot.state_dirs:
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if len(data) == 32:
                raws.append(data)
            elif b"PRIVATE KEY" in data:
                try:
                    key = serialization.load_pem_private_key(data, password=None)
                except (ValueError, TypeError):
                    continue
                if isinstance(key, X25519PrivateKey):
                    raws.append(key.private_bytes_raw())
    return [X25519PrivateKey.from_private_bytes(r) for r in dict.fromkeys(raws)]


def _pair_keys(loot: Loot, spec_json: str, job_id: str, src: str, dst: str) -> list[bytes]:
    digest = job_digest(spec_json)
    src_pubs = [s.public_key for s in loot.publics if s.party == src]
    dst_pubs = [s.public_key for s in loot.publics if s.party == dst]
    keys = []
    for private in _private_candidates(loot, job_id):
        for mine in src_pubs + dst_pubs:
            for theirs in src_pubs + dst_pubs:
                shared = private.exchange(X25519PublicKey.from_public_bytes(theirs))
                keys.append(derive_pair_key(shared, job_id, digest, src, dst, mine, theirs))
    return keys


def bodies_opened(recorded: Iterable[Envelope], loot: Loot, spec_json: str = SPEC_JSON) -> int:
    """How many recorded sealed bodies the attacker opens with what it looted."""
    opened = 0
    cache: dict[tuple[str, str, str], list[bytes]] = {}
    for e in recorded:
        where = (e.job_id, e.src, e.dst)
        if where not in cache:
            cache[where] = _pair_keys(loot, spec_json, *where)
        opened += opens_with_any(cache[where], e.body, associated_data(e))
    return opened
