"""The forward-secret `EnvelopeSealer`: pairwise keys from per-job keys, erased at the end.

Per job, each participant publishes `job_statement(job)`: the public half of a fresh X25519
key (`JobKeys`), signed with its certificate key for that job and spec (job_key.py). A
peer admits the job only with a statement its own copy of the CA vouches for, so a
coordinator that substitutes an ephemeral key of its own is refused, as it is for
long-term keys. Pairwise keys are X25519(own job key, peer's job key) through the same
HKDF as before (pair_key.py); sealing, counters and replay checks are `SealerBase`'s.
`forget` — called when the job is purged — drops the AEADs and erases the private key, so
recorded bodies of a finished job stay closed to whoever later takes the party's
certificate key, long-term key or state folder.
"""

from __future__ import annotations

from collections.abc import Iterable

from vfl.crypto.sealing.counters import NonceCounters
from vfl.crypto.sealing.job_key import private_key, public_bytes, sign_job_key, verify_job_key
from vfl.crypto.sealing.job_keys import JobKeys
from vfl.crypto.sealing.key_statement import KeyStatement
from vfl.crypto.sealing.pairwise_sealer import SealerBase, _JobKeys
from vfl.crypto.sealing.revocation import CrlFile, PeerRevocations
from vfl.errors import CryptoError


class JobKeySealer(SealerBase):
    """Seals with keys agreed from per-job X25519 keys signed by each party's certificate."""

    def __init__(
        self,
        party: str,
        ca_pem: bytes,
        counters: NonceCounters,
        job_keys: JobKeys,
        certificate_pem: bytes,
        signing_key_pem: bytes,
        revocations: PeerRevocations | CrlFile | None = None,
    ) -> None:
        super().__init__(party, ca_pem, counters, revocations)
        self._job_keys = job_keys
        self._signer = (certificate_pem, signing_key_pem)

    def renew(self, certificate_pem: bytes, signing_key_pem: bytes) -> None:
        """Sign per-job keys with a renewed certificate from now on (the keys stay)."""
        self._signer = (certificate_pem, signing_key_pem)

    def job_public(self, job_id: str) -> tuple[bytes, bytes]:
        """(public key, certificate) this party publishes for the job, without signing:
        whether a published statement is current needs no signature."""
        key = private_key(self._job_keys.load_or_create(job_id), f"job {job_id}")
        return public_bytes(key), self._signer[0]

    def job_statement(self, job_id: str, digest: bytes) -> KeyStatement:
        """This party's signed per-job key (made and stored on first use) to publish."""
        key = private_key(self._job_keys.load_or_create(job_id), f"job {job_id}")
        certificate, signing_key = self._signer
        return sign_job_key(self.party, job_id, digest, key, certificate, signing_key)

    def admit(
        self, job_id: str, digest: bytes, peers: Iterable[str], statements: Iterable[KeyStatement]
    ) -> None:
        """Verify each peer's per-job statement and derive the job's keys; CryptoError if not."""
        by_party = {s.party: s for s in statements}
        own = private_key(self._job_keys.load_or_create(job_id), f"job {job_id}")
        mine = public_bytes(own)
        keys = _JobKeys()
        for peer in sorted(set(peers) - {self.party}):
            statement = by_party.get(peer)
            if statement is None:
                raise CryptoError(
                    f"job {job_id}: JobUpdate.job_keys has no per-job key of peer {peer}; "
                    "every participant must publish one (party.toml: seal = true, with [tls])"
                )
            try:
                public = verify_job_key(
                    statement, peer, job_id, digest, self._ca_pem, revoked=self.revocations.revoked
                )
            except CryptoError as exc:
                raise CryptoError(f"job {job_id}: JobUpdate.job_keys: {exc}") from None
            try:
                shared = own.exchange(public)
            except ValueError:
                raise CryptoError(
                    f"job {job_id}: JobUpdate.job_keys: peer {peer}'s per-job key is a "
                    "degenerate point; refusing it"
                ) from None
            self._pair(keys, job_id, digest, peer, shared, mine, statement.public_key)
        self._install(job_id, keys)

    def forget(self, job_id: str) -> None:
        """Drop the job's AEADs and erase its private key: its bodies close for good."""
        super().forget(job_id)
        self._job_keys.erase(job_id)
