"""`Party.Connect`: the one stream each party node holds, carrying relay traffic both ways,
reports, phase results and job updates.

A reader thread handles what the party sends; the generator writes the session's queue.
Everything a party sends is checked against the identity its certificate proves: it can
send only as itself, only inside jobs it belongs to, and it receives only its own mail.
A malformed or oversized message is refused with a clear error on that item; the stream,
and every other party's, keeps working. A job's parties never change once it is created,
so the relay caches them; the job's state is read afresh for every envelope. In a job
whose plan has a hosted program (horizontal), parties may also address `coordinator`: that
mail waits in the same store for the hosted runner (coordinator/hosted.py), and no party
may take the name.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import grpc

from coordinator.certs import Identity
from coordinator.coordinator_metrics import CoordinatorMetrics
from coordinator.errors import (
    AccessDeniedError,
    AlreadyConnectedError,
    BusyError,
    VersionMismatchError,
    abort,
)
from coordinator.hosted import HostedRunner
from coordinator.identity import peer_identity, refuse_revoked
from coordinator.job_key_relay import accept_job_key
from coordinator.lifecycle import JobLifecycle
from coordinator.mailbox import Mailbox, PutResult
from coordinator.report_policy import admit
from coordinator.result_book import ResultBook
from coordinator.sessions import PartySession, SessionRegistry
from coordinator.store import DatasetInfo, Job, Store
from coordinator.stream_gate import StreamGate
from vfl.config.coordinator_config import RelayLimits, ServerLimits
from vfl.config.phase_plan import COORDINATOR, TERMINAL, JobState, plan_for
from vfl.crypto.sealing.job_key_book import JobKeyBook
from vfl.crypto.sealing.revocation import CrlFile
from vfl.errors import ProtocolError, VflError
from vfl.observability.labels import ErrorKind, RelayOutcome
from vfl.protocol import reports, version
from vfl.protocol.chunking import ChunkAssembler, slices
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)
MAX_DATASETS = 256
MAX_KEY_BYTES = 16 * 1024
BATCH = 16
"""Mails read from the store per query when delivering."""


ENDED = pb.Ack.JOB_ENDED
"""The relay's answer to an envelope of an ended job: the sender stops, without blame."""
_OUTCOMES = {
    PutResult.STORED: RelayOutcome.STORED,
    PutResult.DUPLICATE: RelayOutcome.DUPLICATE,
    PutResult.FULL: RelayOutcome.FULL,
}


class PartyServicer(pb_grpc.PartyServicer):
    """Serves `Party.Connect`: admission, the reader, the delivery loop and the relay."""

    def __init__(
        self,
        store: Store,
        book: ResultBook,
        mailbox: Mailbox,
        lifecycle: JobLifecycle,
        sessions: SessionRegistry,
        limits: RelayLimits,
        insecure: bool,
        bounds: ServerLimits | None = None,
        hosted: HostedRunner | None = None,
        metrics: CoordinatorMetrics | None = None,
        revocations: CrlFile | None = None,
    ) -> None:
        self.revocations = revocations  # the CA's CRL: refused at Connect, streams closed
        self.store = store
        self.metrics = metrics or CoordinatorMetrics()
        self.book = book
        self.mailbox = mailbox
        self.lifecycle = lifecycle
        self.sessions = sessions
        self.limits = limits
        self.insecure = insecure
        self.bounds = bounds or ServerLimits()
        self.hosted = hosted  # the coordinator's own programs (participant `coordinator`)
        self.job_keys = hosted.job_keys if hosted is not None else JobKeyBook()
        self.gate = StreamGate(self.bounds.max_party_streams, self.bounds.hello_timeout_s)
        # job -> its parties and whether it has hosted programs (both immutable)
        self._members: dict[str, tuple[frozenset[str], bool]] = {}
        self._members_lock = threading.Lock()
        self._refused: dict[str, int] = {}  # party -> reports refused (logged as a count)

    def Connect(  # noqa: N802 (gRPC method name)
        self, requests: Iterator[pb.PartyMessage], context: grpc.ServicerContext
    ) -> Iterator[pb.CoordinatorMessage]:
        try:
            self.gate.enter()
        except BusyError as exc:
            abort(context, exc)
        try:
            yield from self._serve(requests, context)
        finally:
            self.gate.leave()

    def _serve(
        self, requests: Iterator[pb.PartyMessage], context: grpc.ServicerContext
    ) -> Iterator[pb.CoordinatorMessage]:
        session: PartySession | None = None
        try:
            identity = peer_identity(context, self.insecure, self.revocations)
            if identity.role != "party" or identity.name == COORDINATOR:
                raise AccessDeniedError(f"{identity.name}: only parties hold a party stream")
            first = self.gate.first(requests)
            if first is None or first.WhichOneof("kind") != "hello":
                raise ProtocolError("party stream: the first message must be Hello")
            if first.hello.party != identity.name:
                raise AccessDeniedError(
                    f"certificate says {identity.name!r} but Hello names "
                    f"{first.hello.party!r}; a party can only connect as itself"
                )
            hello = first.hello
            party_peer = version.Peer.received(
                "party", hello.protocol_version, hello.package_version
            )
            refused = version.refusal(version.local("coordinator"), party_peer)
            if refused is not None:
                raise VersionMismatchError(refused)
            # Claimed before registering, so a second node cannot replace the first's
            # datasets or sealing key while it is refused.
            session = PartySession(identity.name, active=context.is_active)
            session.serial = identity.serial
            if not self.sessions.claim(session):
                raise AlreadyConnectedError(
                    f"party {identity.name} is already connected from another node; stop it first"
                )
            self.store.register_party(
                identity.name, _datasets(first.hello), _sealing_key(first.hello, identity.name)
            )
        except Exception as exc:
            if session is not None:
                self.sessions.remove(session)
            abort(context, exc)
        party = identity.name
        log.info("party %s connected", party)
        session.put(
            pb.CoordinatorMessage(
                welcome=pb.Welcome(
                    party=party,
                    max_message_bytes=self.limits.max_message_bytes,
                    chunk_bytes=self.limits.chunk_bytes,
                    protocol_version=version.PROTOCOL,
                    package_version=version.local("coordinator").package,
                )
            )
        )
        for job in self.store.jobs(limit=200, party=party):
            session.put(
                job_update(self.store, job.id, party, self._statement, self._keys(job), self._crl)
            )
        context.add_callback(session.close)
        threading.Thread(target=self._read, args=(session, requests), daemon=True).start()
        threading.Thread(target=self._deliver, args=(session,), daemon=True).start()
        try:
            while (msg := session.next()) is not None:
                yield msg
        finally:
            self.sessions.remove(session)
            log.info("party %s disconnected", party)

    # -- inbound -----------------------------------------------------------------------
    def _read(self, session: PartySession, requests: Iterator[pb.PartyMessage]) -> None:
        assembler = ChunkAssembler(
            self.limits.max_message_bytes,
            self.bounds.open_transfer_bytes,
            self.bounds.transfer_idle_s,
        )
        try:
            for msg in requests:
                if session.closed.is_set():
                    break
                session.heard()
                for tid in assembler.expire():
                    self.metrics.error(ErrorKind.TRANSFER_DROPPED)
                    error = f"transfer {tid}: no slice for {self.bounds.transfer_idle_s:g} s "
                    self._ack(session, transfer_id=tid, error=error + "(dropped); send it again")
                self._handle(session, assembler, msg)
        except grpc.RpcError:
            pass  # the party went away; it resends whatever was not acknowledged
        except Exception:
            self.metrics.error(ErrorKind.STREAM_FAILED)
            log.exception("party %s: stream reader stopped", session.party)
        finally:
            session.close()

    def _handle(
        self, session: PartySession, assembler: ChunkAssembler, msg: pb.PartyMessage
    ) -> None:
        which = msg.WhichOneof("kind")
        party = session.party
        if which == "heartbeat":
            self.store.touch_party(party)
        elif which == "chunk":
            try:
                data = assembler.add(msg.chunk)
            except ProtocolError as exc:
                self.metrics.error(ErrorKind.TRANSFER_DROPPED)
                self._ack(session, transfer_id=msg.chunk.transfer_id, error=str(exc))
                return
            if data is not None:
                self._relay(session, msg.chunk.transfer_id, data)
        elif which == "delivered":
            self.metrics.delivered_after(self.mailbox.confirm(party, msg.delivered.delivery_id))
        elif which in ("report", "phase_done", "approve", "decline", "job_key"):
            item = getattr(msg, which).item_id
            try:
                self._handle_item(party, which, msg)
            except VflError as exc:
                self.metrics.error(ErrorKind.ITEM_REFUSED)
                self._ack(session, item_id=item, error=str(exc))
                return
            self._ack(session, item_id=item)
        else:
            session.put(
                pb.CoordinatorMessage(
                    error=pb.StreamError(
                        message=f"unexpected message {which or '(empty)'} on the party stream"
                    )
                )
            )

    def _handle_item(self, party: str, which: str, msg: pb.PartyMessage) -> None:
        if which == "report":
            self._report(party, msg.report)
        elif which == "phase_done":
            d = msg.phase_done
            self.lifecycle.phase_done(
                d.job_id,
                d.phase,
                party,
                d.ok,
                d.error,
                d.bytes_sent,
                d.bytes_received,
                d.model_path,
            )
        elif which == "job_key":
            changed = accept_job_key(self.store, self.job_keys, party, msg.job_key)
            if changed is not None:  # its peers wait for it before their phase opens
                for p in changed.parties:
                    session = self.sessions.get(p.name)
                    if session is not None:
                        session.put(
                            job_update(
                                self.store,
                                changed.id,
                                p.name,
                                self._statement,
                                self._keys(changed),
                                self._crl,
                            )
                        )
        elif which == "decline":
            job = self.lifecycle.require(msg.decline.job_id)
            if job.state == JobState.PENDING:
                self.lifecycle.decline(msg.decline.job_id, party, msg.decline.reason)
        else:
            job = self.lifecycle.require(msg.approve.job_id)
            if job.state == JobState.PENDING:
                self.lifecycle.approve(msg.approve.job_id, party)

    def _report(self, party: str, report: pb.Report) -> None:
        event = reports.from_proto(report.event)
        # under the lifecycle's lock: the job cannot end between admission and record, so
        # no report lands after the final transition
        with self.lifecycle.transitions():
            job = self._require_member(report.job_id, party)
            try:
                admit(job, party, reports.kind_of(event))
            except VflError:
                with self._members_lock:
                    self._refused[party] = refused = self._refused.get(party, 0) + 1
                log.warning("party %s: report refused (%d so far)", party, refused)
                raise
            self.book.record(job, party, event)

    def _relay(self, session: PartySession, transfer_id: int, data: bytes) -> None:
        try:
            env = Envelope.from_bytes(data)
        except Exception:
            self.metrics.error(ErrorKind.ENVELOPE_INVALID)
            self._ack(session, transfer_id=transfer_id, error="envelope is not valid protobuf")
            return
        try:
            if env.src != session.party:
                raise AccessDeniedError(f"party {session.party} cannot send as {env.src!r}")
            members, hosted = self._job_members(env.job_id)
            if session.party not in members:
                raise AccessDeniedError(f"party {session.party} is not part of job {env.job_id!r}")
            to_hosted = env.dst == COORDINATOR and hosted and self.hosted is not None
            if env.dst not in members and not to_hosted:
                raise AccessDeniedError(f"job {env.job_id} has no party {env.dst!r}")
            state = self.store.job_state(env.job_id)
            if state in TERMINAL:  # the sender's program is stopping: not its fault
                message = f"job {env.job_id} is {state}; nothing to relay"
                self.metrics.relay(env.kind, len(data), RelayOutcome.ENDED)
                self._ack(session, transfer_id=transfer_id, error=message, status=ENDED)
                return
            if state is None or state == JobState.PENDING:
                raise ProtocolError(f"job {env.job_id} is {state}; nothing to relay")
            result = self.mailbox.put(env.job_id, env.src, env.dst, env.kind, env.seq, data)
        except VflError as exc:
            self.metrics.relay(env.kind, len(data), RelayOutcome.REJECTED)
            self.metrics.error(ErrorKind.RELAY_REFUSED)
            self._ack(session, transfer_id=transfer_id, error=str(exc))
            return
        self.metrics.relay(env.kind, len(data), _OUTCOMES[result])
        if result is PutResult.FULL:
            self._ack(session, transfer_id=transfer_id, status=pb.Ack.MAILBOX_FULL)
            return
        self._ack(session, transfer_id=transfer_id)
        if env.dst == COORDINATOR and self.hosted is not None:
            self.hosted.wake()
        else:
            self.sessions.wake(env.dst)

    @property
    def _crl(self) -> bytes:
        return b"" if self.revocations is None else self.revocations.current().der

    @property
    def _statement(self) -> bytes | None:
        return None if self.hosted is None else self.hosted.statement

    def _keys(self, job: Job) -> dict[str, bytes]:
        """The job's per-job key statements, the hosted program's own among them."""
        return self.job_keys.get(job.id) if self.hosted is None else self.hosted.job_keys_of(job)

    def _job_members(self, job_id: str) -> tuple[frozenset[str], bool]:
        """The job's parties, and whether the coordinator hosts a program in it."""
        with self._members_lock:
            found = self._members.get(job_id)
        if found is None:
            job = self.store.job(job_id)
            members = frozenset(p.name for p in job.parties) if job else frozenset()
            found = (members, bool(job and plan_for(job.mode).hosted))
            if job is not None:
                with self._members_lock:
                    self._members[job_id] = found
        return found

    def _require_member(self, job_id: str, party: str) -> Job:
        job = self.store.job(job_id)
        if job is None or job.party(party) is None:
            raise AccessDeniedError(f"party {party} is not part of job {job_id!r}")
        return job

    @staticmethod
    def _ack(
        session: PartySession,
        transfer_id: int = 0,
        item_id: int = 0,
        error: str = "",
        status: pb.Ack.Status.ValueType = pb.Ack.STORED,
    ) -> None:
        if error and status == pb.Ack.STORED:
            status = pb.Ack.REJECTED
        session.put(
            pb.CoordinatorMessage(
                ack=pb.Ack(transfer_id=transfer_id, item_id=item_id, status=status, error=error)
            )
        )

    # -- outbound mail -----------------------------------------------------------------
    def _revoked(self, session: PartySession) -> bool:
        """Close the stream of a certificate revoked after it connected (CRL reloaded)."""
        try:
            refuse_revoked(Identity(session.party, "party", session.serial), self.revocations)
        except AccessDeniedError as exc:
            log.warning("party %s: %s; closing its stream", session.party, exc)
            session.put(pb.CoordinatorMessage(error=pb.StreamError(message=str(exc))), 1.0)
            session.close()
            return True
        return False

    def _deliver(self, session: PartySession) -> None:
        last_id = 0
        try:
            while not session.closed.is_set():
                # This loop wakes every second anyway, so it also ends a silent session:
                # one that holds a stream (and perhaps open transfers) but sends nothing.
                if not session.alive(self.sessions.silence_s):
                    log.info("party %s: silent or gone; closing its session", session.party)
                    session.close()
                    return
                if self._revoked(session):
                    return
                # Clear before looking: mail stored after this line sets the event again, mail
                # stored before it is in the query, so none waits for the 1 s backstop.
                session.mail.clear()
                mails = self.mailbox.pending(session.party, last_id, BATCH)
                for mail in mails:
                    for chunk in slices(mail.data, mail.id, self.limits.chunk_bytes):
                        if not session.put(pb.CoordinatorMessage(delivery=chunk)):
                            return
                    last_id = mail.id
                    self.metrics.delivery(mail.kind, len(mail.data))
                if len(mails) < BATCH:  # nothing else was waiting: sleep until new mail
                    session.mail.wait(timeout=1.0)
        except Exception:
            self.metrics.error(ErrorKind.STREAM_FAILED)
            log.exception("party %s: delivery stopped", session.party)
            session.close()


def job_update(
    store: Store,
    job_id: str,
    party: str,
    hosted_statement: bytes | None = None,
    job_keys: dict[str, bytes] | None = None,
    crl: bytes = b"",
) -> pb.CoordinatorMessage:
    """What `party` is told about a job; with a hosted program, the coordinator's own key
    statement (`hosted_statement`) is among the sealing keys, verified like a peer's;
    `job_keys` are the per-job keys published so far (JobKeyBook); `crl` is the CA's
    revocation list, forwarded as signed: parties check it themselves."""
    job = store.job(job_id)
    assert job is not None, "job updates are sent for stored jobs"
    me = job.party(party)
    done = store.phases_done(job_id, party)
    keys = store.sealing_keys([p.name for p in job.parties])
    if hosted_statement is not None and plan_for(job.mode).hosted:
        keys[COORDINATOR] = hosted_statement
    return pb.CoordinatorMessage(
        job=pb.JobUpdate(
            job_id=job.id,
            state=job.state,
            spec_json=job.spec_json,
            approved_by_you=bool(me and me.approved),
            error=job.error or "",
            phases_done=sorted(done),
            sealing_keys=[pb.SealingKey.FromString(keys[name]) for name in sorted(keys)],
            crl=crl,
            job_keys=[pb.SealingKey.FromString(v) for _, v in sorted((job_keys or {}).items())],
        )
    )


def _sealing_key(hello: pb.Hello, party: str) -> bytes | None:
    """The party's key statement, stored as sent; only its peers can and do verify it."""
    if not hello.HasField("sealing_key"):
        return None
    key = hello.sealing_key
    if key.party != party:
        raise AccessDeniedError(f"party {party} cannot publish a sealing key for {key.party!r}")
    if len(key.SerializeToString()) > MAX_KEY_BYTES:
        raise ProtocolError(f"Hello: sealing key statement larger than {MAX_KEY_BYTES} bytes")
    return key.SerializeToString()


def _datasets(hello: pb.Hello) -> list[DatasetInfo]:
    if len(hello.datasets) > MAX_DATASETS:
        raise ProtocolError(f"Hello: {len(hello.datasets)} datasets (limit {MAX_DATASETS})")
    return [
        DatasetInfo(d.name[:128], tuple(c[:256] for c in d.columns[:10_000]), d.rows)
        for d in hello.datasets
    ]
