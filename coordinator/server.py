"""The coordinator process: store, relay, lifecycle, hosted programs and both gRPC services
on one port."""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from pathlib import Path

import grpc

from coordinator.admin_servicer import AdminServicer
from coordinator.coordinator_metrics import CoordinatorMetrics
from coordinator.database import Database
from coordinator.diagnose_servicer import DiagnoseServicer
from coordinator.hosted import HostedRunner
from coordinator.lifecycle import JobLifecycle
from coordinator.mailbox import Mailbox, MailboxLimits
from coordinator.party_servicer import PartyServicer, job_update
from coordinator.result_book import ResultBook
from coordinator.sessions import SessionRegistry
from coordinator.sql_store import SqlStore
from coordinator.store import Store
from vfl.config.coordinator_config import CoordinatorConfig
from vfl.crypto.sealing.pairwise_sealer import SealerBase
from vfl.crypto.sealing.revocation import CrlFile
from vfl.errors import ConfigError
from vfl.observability.endpoint import MetricsEndpoint
from vfl.observability.labels import ErrorKind
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)


class CoordinatorServer:
    """Builds the coordinator from its config and serves both services until stopped."""

    def __init__(self, config: CoordinatorConfig) -> None:
        self.config = config
        self.db = Database(config.database)
        self.db.migrate()
        self.store: Store = SqlStore(self.db)
        reports = config.reports
        self.book = ResultBook(self.store, reports.max_events_per_job, reports.folded_jobs)
        relay = config.relay
        limits = MailboxLimits(
            max_messages=relay.mailbox_messages,
            max_bytes=relay.mailbox_bytes,
            job_messages=relay.job_messages,
            job_bytes=relay.job_bytes,
            sender_messages=relay.sender_messages,
            sender_bytes=relay.sender_bytes,
        )
        self.mailbox = Mailbox(self.db, limits)
        self.sessions = SessionRegistry(config.limits.session_silence_s)
        self.metrics = CoordinatorMetrics()
        self.metrics.watch(self.db, self.sessions)
        self.metrics_endpoint = MetricsEndpoint(config.metrics, self.metrics.registry)
        retention = config.retention
        self.lifecycle = JobLifecycle(
            self.store, self.mailbox, self._notify, retention.resume_window_s, self.metrics
        )
        # the programs the coordinator runs itself (the horizontal aggregator)
        self.hosted = HostedRunner(
            config, self.store, self.mailbox, self.sessions, self.book, self.lifecycle
        )
        self.lifecycle.recover()
        self._stopped = threading.Event()
        self._sweeper = threading.Thread(
            target=self._sweep, args=(retention.sweep_s,), name="sweep", daemon=True
        )
        message_limit = config.relay.chunk_bytes + (1 << 20)
        calls = config.limits.max_concurrent_rpcs
        # As many workers as admitted calls: an admitted call never waits for a thread, and
        # one beyond the limit is refused at once (RESOURCE_EXHAUSTED) instead of queueing.
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=calls, thread_name_prefix="grpc"),
            maximum_concurrent_rpcs=calls,
            options=[
                ("grpc.max_receive_message_length", message_limit),
                ("grpc.max_send_message_length", message_limit),
                ("grpc.keepalive_time_ms", 20_000),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
            ],
        )
        insecure = config.insecure
        self.revocations = _revocations(config)
        if self.revocations is not None and isinstance(self.hosted.sealer, SealerBase):
            self.hosted.sealer.revocations = self.revocations  # the aggregator checks it too
        pb_grpc.add_PartyServicer_to_server(  # type: ignore[no-untyped-call]
            PartyServicer(
                self.store,
                self.book,
                self.mailbox,
                self.lifecycle,
                self.sessions,
                config.relay,
                insecure,
                config.limits,
                self.hosted,
                self.metrics,
                self.revocations,
            ),
            self.server,
        )
        pb_grpc.add_AdminServicer_to_server(  # type: ignore[no-untyped-call]
            AdminServicer(
                self.store, self.book, self.lifecycle, self.sessions, insecure, self.revocations
            ),
            self.server,
        )
        pb_grpc.add_DiagnoseServicer_to_server(  # type: ignore[no-untyped-call]
            DiagnoseServicer(insecure), self.server
        )
        if insecure:
            self.port = self.server.add_insecure_port(config.listen)
        else:
            assert config.tls is not None, "validated: tls is required unless insecure"
            ca, cert, key = config.tls.read()
            creds = grpc.ssl_server_credentials(
                [(key, cert)], root_certificates=ca, require_client_auth=True
            )
            self.port = self.server.add_secure_port(config.listen, creds)
        if self.port == 0:
            raise ConfigError(f"listen: cannot bind {config.listen!r} (in use or not local)")

    @property
    def address(self) -> str:
        return f"{self.config.listen.rsplit(':', 1)[0]}:{self.port}"

    def start(self, port_file: Path | None = None) -> None:
        self.metrics_endpoint.start()  # first: a port taken fails before parties connect
        self.server.start()
        self._sweeper.start()
        self.hosted.start()  # after a restart: live jobs' hosted programs resume
        log.info("coordinator serving on %s", self.address)
        if port_file is not None:
            tmp = port_file.with_suffix(".tmp")
            tmp.write_text(self.address)
            tmp.replace(port_file)

    def wait(self) -> None:
        self.server.wait_for_termination()

    def stop(self, grace: float = 1.0) -> None:
        self._stopped.set()
        self.hosted.stop()
        self.sessions.close_all()
        self.server.stop(grace).wait()
        self.metrics_endpoint.stop()
        self.db.close()

    def _sweep(self, every_s: float) -> None:
        """Every `every_s`: drop ended jobs' relayed bodies a crash left behind."""
        while not self._stopped.wait(every_s):
            try:
                dropped = self.lifecycle.sweep()
            except Exception:  # a store hiccup: the next sweep tries again
                self.metrics.error(ErrorKind.SWEEP_FAILED)
                log.exception("sweep of ended jobs' mail failed")
                continue
            if dropped:
                log.info("swept %d relayed bodies of ended jobs", dropped)
            try:
                self.hosted.sweep()
            except Exception:
                log.exception("sweep of hosted programs' journals failed")

    def _notify(self, job_id: str) -> None:
        job = self.store.job(job_id)
        if job is None:
            return
        for p in job.parties:
            session = self.sessions.get(p.name)
            if session is not None:
                crl = b"" if self.revocations is None else self.revocations.current().der
                keys = self.hosted.job_keys_of(job)
                update = job_update(self.store, job_id, p.name, self.hosted.statement, keys, crl)
                session.put(update, timeout=5.0)
        self.hosted.on_job(job)


def _revocations(config: CoordinatorConfig) -> CrlFile | None:
    """The CA's revocation list ([tls] crl), reloaded when the file changes."""
    tls = config.tls
    if config.insecure or tls is None or tls.crl is None:
        return None
    return CrlFile(tls.crl, tls.read()[0])
