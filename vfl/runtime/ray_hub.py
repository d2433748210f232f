"""The simulator's hub as a Ray actor, for parties that run as Ray actors on other cores
or machines (`vfl simulate --backend ray`, docs/horizontal.md).

It is `InMemoryHub` with a Ray call in place of a method call: one actor holds the same
`Mailboxes` (first copy wins, a deadline per wait, abort per job), and each party's
`RayChannel` posts and takes serialised envelopes through it. Programs cannot tell it
from the in-memory hub; the channel contract suite runs against both.

The actor is threaded: every waiting `take` holds one of its threads until its message
arrives, so it needs a thread per participant that may wait at once, plus room for the
posts and the abort that wake them.
"""

from __future__ import annotations

from typing import Any

import ray
from ray.exceptions import RayError

from vfl.errors import PeerUnavailableError, VflError
from vfl.protocol.envelope import Envelope
from vfl.runtime.hub_channel import HubChannel
from vfl.runtime.mailboxes import Mailboxes
from vfl.runtime.sealing import EnvelopeSealer


class _HubActor:
    """The mailboxes, in their own Ray worker. `take` returns the error it would raise,
    so the party's channel raises it as itself, not wrapped in a Ray task error."""

    def __init__(self) -> None:
        self._mail: Mailboxes[bytes] = Mailboxes()

    def put(self, key: tuple[str, ...], data: bytes) -> bool:
        return self._mail.put(key, data)

    def take(self, key: tuple[str, ...], timeout: float, what: str) -> bytes | VflError:
        try:
            return self._mail.take(key, timeout, what)
        except VflError as error:  # JobAbortedError, PeerUnavailableError
            return error

    def abort(self, job_id: str, reason: str) -> None:
        self._mail.abort(job_id, reason)

    def pending(self, job_id: str) -> int:
        return self._mail.pending(job_id)


class RayHub:
    """A handle on one hub actor; picklable, so party actors can be given it."""

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    @staticmethod
    def start(participants: int) -> RayHub:
        """A new hub actor in the connected Ray instance (`ray.init` first). It reserves no
        CPU: it only waits, and a job must never wait for a core to start its mailboxes."""
        threads = 2 * participants + 8  # a waiting take each, and room for posts and aborts
        actor = ray.remote(_HubActor).options(num_cpus=0, max_concurrency=threads)
        return RayHub(actor.remote())

    def stop(self) -> None:
        ray.kill(self._actor)

    def channel(self, party: str, sealer: EnvelopeSealer | None = None) -> RayChannel:
        return RayChannel(self, party, sealer)

    def abort(self, job_id: str, reason: str) -> None:
        """Wake every waiter of the job; returns once the hub has done it."""
        self._call(self._actor.abort.remote(job_id, reason))

    def pending(self, job_id: str) -> int:
        """Envelopes posted for the job and not yet received (0 after a clean run)."""
        count: int = self._call(self._actor.pending.remote(job_id))
        return count

    def post(self, envelope: Envelope) -> None:
        key = (envelope.job_id, envelope.src, envelope.dst, envelope.seq)
        self._call(self._actor.put.remote(key, envelope.to_bytes()))  # duplicates dropped

    def take(self, job_id: str, src: str, dst: str, seq: str, timeout: float) -> Envelope:
        ref = self._actor.take.remote((job_id, src, dst, seq), timeout, f"message {seq} from {src}")
        outcome = self._call(ref)
        if isinstance(outcome, VflError):
            raise outcome
        return Envelope.from_bytes(outcome)

    @staticmethod
    def _call(ref: Any) -> Any:
        try:
            return ray.get(ref)
        except RayError as error:  # the hub's worker died: no peer can be reached any more
            raise PeerUnavailableError(f"the Ray hub is gone: {type(error).__name__}") from error


class RayChannel(HubChannel):
    """A party's handle on a `RayHub`, usable in any Ray worker or the driver."""
