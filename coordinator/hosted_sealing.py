"""The coordinator's sealing identity, for the programs it hosts (the horizontal aggregator).

A hosted program is a participant like any party: bodies between it and the parties are
sealed end to end with the same pairwise keys, from a fresh key per job (forward secrecy,
vfl/crypto/sealing/job_sealer.py) signed with the coordinator's certificate key. Its
long-term X25519 key is made on first start in the coordinator's state folder (0600), and
its statement is signed with the key of the coordinator's certificate (CN `coordinator`,
OU `coordinator`, as `vfl certs init` makes it). The relay adds that statement to the
`sealing_keys` of a hosted job's updates, and the per-job one to its `job_keys`; each party
verifies them against its own CA, as it verifies its peers'. Without certificates
(`insecure = true`) nothing is sealed, as for parties.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from vfl.config.coordinator_config import CoordinatorConfig
from vfl.config.phase_plan import COORDINATOR
from vfl.crypto.sealing import (
    FileJobKeys,
    IdentityKey,
    JobKeySealer,
    NonceCounters,
    verify_statement,
)
from vfl.errors import CryptoError
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.runtime.sealing import EnvelopeSealer, NoSealing

log = logging.getLogger(__name__)
KEY_FILE = "sealing_x25519.key"


@dataclass(frozen=True)
class HostedSealing:
    sealer: EnvelopeSealer
    statement: bytes | None
    """The serialized `SealingKey` the relay forwards to a hosted job's parties, or None."""


def hosted_sealing(
    config: CoordinatorConfig, state_dir: Path, counters: NonceCounters
) -> HostedSealing:
    if config.insecure or config.tls is None:
        return HostedSealing(NoSealing(), None)
    ca, cert, key = config.tls.read()
    identity = IdentityKey.load_or_create(state_dir / KEY_FILE)
    statement = identity.statement(COORDINATOR, cert, key)
    try:  # the parties' own check: say now, in our log, why they would refuse it
        verify_statement(statement, COORDINATOR, ca)
    except CryptoError as exc:
        log.warning("hosted programs cannot seal, so hosted jobs will fail: %s", exc)
        return HostedSealing(_sealer(state_dir, ca, cert, key, counters), None)
    proto = pb.SealingKey(
        party=statement.party,
        public_key=statement.public_key,
        certificate=statement.certificate,
        signature=statement.signature,
    )
    return HostedSealing(_sealer(state_dir, ca, cert, key, counters), proto.SerializeToString())


def _sealer(
    state_dir: Path, ca: bytes, cert: bytes, key: bytes, counters: NonceCounters
) -> JobKeySealer:
    """Per-job keys in each hosted job's private folder, erased when the job is purged."""
    return JobKeySealer(COORDINATOR, ca, counters, FileJobKeys(state_dir / "jobs"), cert, key)
