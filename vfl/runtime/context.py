"""PartyContext: everything a program may use, passed explicitly, never global.

Sequence numbers are namespaced by scope: `ctx.scoped(epoch=3, batch=7)` gives a context
whose n-th message to a peer is `epoch=3/batch=7#n`. Sender and receiver advance the same
counters, so each message is matched to exactly one `recv`, a duplicated delivery is
dropped, and a restarted program resumes in the right place.

A restarted program re-sends what it had sent, and its peers keep the first copy. That is
sound only if the copy is identical: a different body under a used number would mean
masks or noise drawn twice for different values, or peers that disagree silently. So
`send` digests each plaintext body into the party's ledger (kept across restarts) and
refuses, with ReplayError, a different body under a number the party already used.

Every caller that runs a program (the simulator, the party node, local PSI runs, the
benchmarks) builds its context with `party_context`, so role, protection and scope are
derived from the spec in one place.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeVar

from vfl.config.job_spec import HorizontalJobSpec, JobSpec, TransferJobSpec, VerticalJobSpec
from vfl.config.phase_plan import COORDINATOR
from vfl.dataset import PartyDataset
from vfl.errors import ConfigError, PeerUnavailableError, ProtocolError, ReplayError
from vfl.protocol import serde
from vfl.protocol.envelope import Envelope
from vfl.runtime.channel import Channel
from vfl.runtime.events import Event, Reporter
from vfl.runtime.ledger import Ledger, LedgerEntry
from vfl.runtime.workspace import Workspace

if TYPE_CHECKING:
    from vfl.registry.model_registry import ModelRegistry
    from vfl.runtime.score_sink import OutputPlace

_M = TypeVar("_M")


@dataclass
class _Counters:
    lock: threading.Lock = field(default_factory=threading.Lock)
    values: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def next(self, scope: str, peer: str, direction: str) -> int:
        key = (scope, peer, direction)
        with self.lock:
            n = self.values.get(key, 0)
            self.values[key] = n + 1
            return n

    def peek(self, scope: str, peer: str, direction: str) -> int:
        with self.lock:
            return self.values.get((scope, peer, direction), 0)


@dataclass(frozen=True)
class PartyContext:
    party: str
    role: str
    job: JobSpec
    job_id: str
    channel: Channel
    workspace: Workspace
    reporter: Reporter
    ledger: Ledger
    data: PartyDataset | None = None
    protection: str = "none"
    scope: str = ""
    spec_digest: bytes | None = None
    """Digest of the job spec as this party received it (the coordinator's canonical
    JSON); None: computed from `job`. The simulator sets it to replay a deployed job."""
    registry: ModelRegistry | None = None
    """This party's registry of trained parts (prediction jobs load theirs from it)."""
    outputs: OutputPlace | None = None
    """Where `[predict] output` may land at this party (vfl/runtime/score_sink.py)."""
    _counters: _Counters = field(default_factory=_Counters, repr=False)

    def scoped(self, **parts: object) -> PartyContext:
        """A context whose message sequence numbers live under `key=value/...`."""
        suffix = "/".join(f"{k}={v}" for k, v in parts.items())
        return replace(self, scope=f"{self.scope}/{suffix}" if self.scope else suffix)

    def send(self, to: str, msg: object) -> None:
        body = serde.encode(msg)
        seq = f"{self.scope}#{self._counters.next(self.scope, to, 'out')}"
        kind = serde.kind_of(type(msg))
        digest = hashlib.sha256(body).digest()  # the plaintext: sealing differs per send
        if self.ledger.remember_sent(self.job_id, to, seq, digest) != digest:
            raise ReplayError(
                f"job {self.job_id}: message {seq} ({kind}) to {to} was already sent with "
                "another body; not sent, since its peer keeps the first and masks would "
                "repeat: a resumed program must draw its secrets from the party secret "
                "(vfl.runtime.party_secret), not the OS; run the job again"
            )
        self.channel.send(Envelope(self.job_id, self.party, to, kind, seq, body))
        self.ledger.record(
            LedgerEntry(
                self.job_id, "sent", to, kind, seq, len(body), self.protection, self.channel.sealing
            )
        )

    def recv(self, frm: str, expected: type[_M], timeout: float | None = None) -> _M:
        """The next message from `frm` in this scope; PeerUnavailableError after `timeout`
        seconds (default: the job's train.timeout_s). A message that comes later is never
        read in another scope: each has its own sequence numbers."""
        seq = f"{self.scope}#{self._counters.next(self.scope, frm, 'in')}"
        wait = self.job.train.timeout_s if timeout is None else timeout
        return self._take(frm, expected, seq, wait)

    def poll(self, frm: str, expected: type[_M], timeout: float) -> _M | None:
        """Like `recv`, but None after `timeout` and nothing consumed: the next poll or
        recv waits for the same message (for programs that wait on whoever answers
        first, such as buffered asynchronous aggregation)."""
        index = self._counters.peek(self.scope, frm, "in")
        try:
            message = self._take(frm, expected, f"{self.scope}#{index}", timeout)
        except PeerUnavailableError:
            return None
        self._counters.next(self.scope, frm, "in")
        return message

    def _take(self, frm: str, expected: type[_M], seq: str, wait: float) -> _M:
        envelope = self.channel.recv(self.job_id, frm, seq, wait)
        kind = serde.kind_of(expected)
        if envelope.kind != kind:
            raise ProtocolError(
                f"message {seq} from {frm}: expected {kind}, received {envelope.kind}"
            )
        self.ledger.record(
            LedgerEntry(
                self.job_id,
                "received",
                frm,
                kind,
                seq,
                len(envelope.body),
                self.protection,
                self.channel.sealing,
            )
        )
        return serde.decode(envelope.body, expected)

    def report(self, event: Event) -> None:
        self.reporter.report(self.party, event)

    def require_data(self) -> PartyDataset:
        if self.data is None:
            raise ProtocolError(f"party {self.party}: this program needs the party's dataset")
        return self.data

    def require_registry(self) -> ModelRegistry:
        if self.registry is None:
            raise ProtocolError(
                f"party {self.party}: this program needs the party's model registry"
            )
        return self.registry


def party_context(
    spec: JobSpec,
    party: str,
    job_id: str,
    phase: str,
    *,
    channel: Channel,
    workspace: Workspace,
    reporter: Reporter,
    ledger: Ledger,
    data: PartyDataset | None = None,
    spec_digest: bytes | None = None,
    registry: ModelRegistry | None = None,
    outputs: OutputPlace | None = None,
) -> PartyContext:
    """The context `party`'s program for `phase` of job `job_id` runs in: its role from the
    spec, the protection its ledger records, sequence numbers scoped to the phase."""
    me = next((p for p in spec.parties if p.name == party), None)
    hosted = spec.plan.hosted
    if me is None and not (party == COORDINATOR and hosted):
        raise ConfigError(f"job {job_id} does not name party {party}")
    role = me.role if me is not None else hosted[0]
    return PartyContext(
        party=party,
        role=role,
        job=spec,
        job_id=job_id,
        channel=channel,
        workspace=workspace,
        reporter=reporter,
        ledger=ledger,
        data=data,
        protection=_protection(spec),
        scope=phase,
        spec_digest=spec_digest,
        registry=registry,
        outputs=outputs,
    )


def _protection(spec: JobSpec) -> str:
    """What the ledger records as the job's protection of what crosses parties."""
    if isinstance(spec, VerticalJobSpec | TransferJobSpec):
        return spec.train.protection
    if isinstance(spec, HorizontalJobSpec) and spec.train.secure_aggregation:
        return "secure_aggregation"
    return "none"
