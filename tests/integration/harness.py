"""Real coordinators and party links on 127.0.0.1 for the integration tests."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from coordinator.server import CoordinatorServer
from coordinator.store import Job, JobParty
from parties.coordinator_link import CoordinatorLink
from parties.grpc_channel import GrpcChannel
from vfl.config.coordinator_config import (
    CoordinatorConfig,
    RelayLimits,
    ReportLimits,
    ServerLimits,
    TlsFiles,
)
from vfl.config.metrics_config import MetricsConfig
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.runtime.inbox import Inbox
from vfl.runtime.node_store import NodeStore
from vfl.runtime.sealing import EnvelopeSealer

TERMINAL = ("succeeded", "failed", "cancelled")


def credentials(pki: Path, name: str) -> grpc.ChannelCredentials:
    """mTLS credentials of `name` from a folder `vfl certs init` wrote."""
    return grpc.ssl_channel_credentials(
        root_certificates=(pki / "ca.pem").read_bytes(),
        private_key=(pki / f"{name}.key").read_bytes(),
        certificate_chain=(pki / f"{name}.pem").read_bytes(),
    )


class Outbox:
    """A request stream the test writes to; it stays open (and silent) until closed."""

    def __init__(self) -> None:
        self._items: queue.Queue[pb.PartyMessage | None] = queue.Queue()

    def send(self, message: pb.PartyMessage) -> None:
        self._items.put(message)

    def close(self) -> None:
        self._items.put(None)

    def __iter__(self) -> Iterator[pb.PartyMessage]:
        while (item := self._items.get()) is not None:
            yield item


def start_coordinator(
    tmp: Path,
    tls: TlsFiles | None = None,
    relay: RelayLimits | None = None,
    reports: ReportLimits | None = None,
    limits: ServerLimits | None = None,
    metrics: MetricsConfig | None = None,
) -> CoordinatorServer:
    config = CoordinatorConfig(
        listen="127.0.0.1:0",
        database=f"sqlite:///{tmp / 'coordinator.db'}",
        insecure=tls is None,
        tls=tls,
        relay=relay or RelayLimits(),
        reports=reports or ReportLimits(),
        limits=limits or ServerLimits(max_concurrent_rpcs=16, max_party_streams=12),
        metrics=metrics or MetricsConfig(),
    )
    server = CoordinatorServer(config)
    server.start()
    return server


def add_running_job(server: CoordinatorServer, parties: tuple[str, ...], job_id: str) -> str:
    """A job already in its train phase, as if submitted and approved."""
    roles = ["label_holder"] + ["feature_holder"] * (len(parties) - 1)
    members = tuple(JobParty(p, r, True, 0, 0, None) for p, r in zip(parties, roles, strict=True))
    server.store.create_job(
        Job(job_id, "contract", "vertical", "{}", "operator", "train", None, 0.0, members)
    )
    return job_id


@dataclass
class PartyEnd:
    """A party's link, inbox and channel without the node that runs programs."""

    party: str
    link: CoordinatorLink
    inbox: Inbox
    channel: GrpcChannel
    store: NodeStore
    updates: list[pb.JobUpdate]

    def close(self) -> None:
        self.link.stop()
        self.store.close()


def connect_party(
    server_address: str,
    party: str,
    state: Path,
    credentials: grpc.ChannelCredentials | None = None,
    sealer: EnvelopeSealer | None = None,
) -> PartyEnd:
    store = NodeStore(state / f"{party}.db")
    inbox = Inbox(store, party)
    updates: list[pb.JobUpdate] = []

    def on_job(update: pb.JobUpdate) -> None:
        updates.append(update)
        if update.state in TERMINAL:
            inbox.abort(update.job_id, f"job {update.state}")

    link = CoordinatorLink(
        server_address, party, credentials, [], inbox.deliver, on_job, reconnect_max_s=0.5
    )
    link.start()
    wait_for(link.connected.is_set, f"{party} connects")
    return PartyEnd(
        party, link, inbox, GrpcChannel(party, link.send_envelope, inbox, sealer), store, updates
    )


def wait_for(condition: object, what: str, limit_s: float = 30.0) -> None:
    """Poll until `condition()` holds; the limit only stops a hung test, it is not asserted."""
    assert callable(condition)
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)
