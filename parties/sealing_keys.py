"""This party's sealing: its long-term key, its signed statements and the sealer.

A party node with certificates seals by default: the X25519 key is made on first start in
the state folder (0600) and its public half is signed with the certificate key, sent in
Hello, and forwarded by the coordinator to the party's peers in every job update. Bodies
are sealed with keys from per-job X25519 keys (forward secrecy): once this party approved
a job it publishes a fresh key for it (`job_key_message`, kept 0600 in the job's private
folder, erased when the job is purged), and the coordinator forwards it in `job_keys`. With
`insecure = true` (loopback development) there is no certificate to bind a key to, so
nothing is sealed and the ledger says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vfl.config.party_config import PartyConfig
from vfl.crypto.sealing import FileJobKeys, IdentityKey, JobKeySealer, KeyStatement
from vfl.crypto.sealing.pairwise_sealer import SealerBase, job_digest
from vfl.crypto.sealing.revocation import PeerRevocations
from vfl.errors import ConfigError, CryptoError
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.runtime.node_store import NodeStore
from vfl.runtime.sealing import EnvelopeSealer, NoSealing

log = logging.getLogger(__name__)
KEY_FILE = "sealing_x25519.key"


@dataclass(frozen=True)
class NodeSealing:
    sealer: EnvelopeSealer
    hello_key: pb.SealingKey | None  # what this party publishes, or None if it does not seal


def node_sealing(config: PartyConfig, store: NodeStore) -> NodeSealing:
    if not config.seal:
        log.warning("seal = false: envelope bodies to peers are NOT sealed end to end")
        return NodeSealing(NoSealing(), None)
    if config.insecure or config.tls is None:
        log.warning("insecure = true: no certificate to bind a sealing key to; bodies unsealed")
        return NodeSealing(NoSealing(), None)
    ca, cert, key = config.tls.read()
    identity = IdentityKey.load_or_create(config.state_dir / KEY_FILE)
    statement = identity.statement(config.name, cert, key)
    revocations = PeerRevocations(ca)
    if config.tls.crl is not None:  # a copy from the CA operator; the coordinator's may be newer
        try:
            revocations.offer(config.tls.crl.read_bytes(), f"tls.crl {config.tls.crl}")
        except OSError as exc:
            raise ConfigError(f"tls.crl: cannot read {config.tls.crl} ({exc.strerror})") from None
        except CryptoError as exc:
            raise ConfigError(str(exc)) from None
    job_keys = FileJobKeys(config.state_dir / "jobs")
    sealer = JobKeySealer(config.name, ca, store, job_keys, cert, key, revocations)
    return NodeSealing(sealer, to_proto(statement))


def offer_crl(sealer: EnvelopeSealer, update: pb.JobUpdate) -> None:
    """Take the revocation list a job update forwards, if the CA signed it and it is newer.

    A forged one means the coordinator (or whoever answers for it) is hostile: logged, and
    the list this party already trusts stays."""
    if not isinstance(sealer, SealerBase) or not update.crl:
        return
    if not isinstance(sealer.revocations, PeerRevocations):
        return  # reads the CA operator's file itself
    try:
        sealer.revocations.offer(update.crl, f"job {update.job_id}: the coordinator's CRL")
    except CryptoError as exc:
        log.error("%s", exc)


def job_key_message(
    sealer: JobKeySealer, job_id: str, spec_json: str, published: Iterable[pb.SealingKey]
) -> pb.JobKey | None:
    """This party's per-job key to publish, or None if `published` already has it, under
    the certificate in use (after a renewal the same key is published again, signed anew,
    so peers stop relying on a certificate that may be revoked next)."""
    public, certificate = sealer.job_public(job_id)
    for k in published:
        if (k.party, k.public_key, k.certificate) == (sealer.party, public, certificate):
            return None  # every job update asks: sign only when it is missing or stale
    own = sealer.job_statement(job_id, job_digest(spec_json))
    return pb.JobKey(job_id=job_id, key=to_proto(own))


def to_proto(statement: KeyStatement) -> pb.SealingKey:
    s = statement
    return pb.SealingKey(
        party=s.party, public_key=s.public_key, certificate=s.certificate, signature=s.signature
    )


def from_proto(keys: Iterable[pb.SealingKey]) -> list[KeyStatement]:
    return [KeyStatement(k.party, k.public_key, k.certificate, k.signature) for k in keys]


def from_bytes(keys: Mapping[str, bytes]) -> list[KeyStatement]:
    """Statements kept serialized (JobKeyBook); each is verified by whoever admits it."""
    return from_proto(pb.SealingKey.FromString(data) for data in keys.values())
