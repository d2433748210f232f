"""What the relay checks on a party's per-job sealing key before forwarding it to peers.

The coordinator cannot verify the statement's signature in a way peers could rely on (it
is the party they must not trust), so it checks only what keeps its own book sane: the
job exists, is not over, names the sender, and the statement is the sender's and small.
Peers verify the signature against their own CA (vfl/crypto/sealing/job_sealer.py).
"""

from __future__ import annotations

from coordinator.errors import AccessDeniedError
from coordinator.store import Job, Store
from vfl.config.phase_plan import TERMINAL
from vfl.crypto.sealing.job_key_book import JobKeyBook
from vfl.errors import JobEndedError, ProtocolError
from vfl.protocol.v1 import coordinator_pb2 as pb

MAX_KEY_BYTES = 16 * 1024


def accept_job_key(store: Store, book: JobKeyBook, party: str, message: pb.JobKey) -> Job | None:
    """Record `party`'s per-job key; the job if that changed what its peers must be told."""
    job = store.job(message.job_id)
    if job is None or job.party(party) is None:
        raise AccessDeniedError(f"JobKey: party {party} is not part of job {message.job_id!r}")
    if job.state in TERMINAL:
        raise JobEndedError(f"JobKey: job {job.id} is {job.state}; no key is needed any more")
    key = message.key
    if key.party != party:
        raise AccessDeniedError(
            f"JobKey.key.party: party {party} cannot publish a key for {key.party!r}; "
            "a party publishes only its own"
        )
    data = key.SerializeToString()
    if len(data) > MAX_KEY_BYTES:
        raise ProtocolError(
            f"JobKey.key: {len(data)} bytes, limit {MAX_KEY_BYTES}; send only the party's "
            "certificate, not its chain"
        )
    return job if book.put(job.id, party, data) else None
