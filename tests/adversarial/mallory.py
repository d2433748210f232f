"""Mallory, the hostile member: raw `Party.Connect` streams under its certificate, and a
party node run inside the test process whose stream the test also writes to.

The raw streams are the attacker with no node at all (silent streams, a second session,
open transfers). A probe that needs mallory to be a member of a running job (report
forgery, a flood of envelopes or events) uses `MalloryNode`: a real `PartyNode` that runs
its programs honestly, so the job runs, while the test sends on the same stream whatever
a modified node could send. One live session per identity: the two are never used at once.
"""

from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc

from parties.node import PartyNode
from tests.adversarial.federation import BREAST, EPOCHS, MALLORY, mallory_credentials, operator
from tests.integration.harness import Outbox, wait_for
from vfl.cli.local_federation import DATASET, LocalFederation, sample_policy
from vfl.config.coordinator_config import TlsFiles
from vfl.config.party_config import DatasetConfig, PartyConfig
from vfl.protocol import reports
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc
from vfl.protocol.version import PROTOCOL
from vfl.runtime.events import Event

CONNECT = "/vfl.protocol.v1.Party/Connect"


def hello(party: str = MALLORY) -> pb.PartyMessage:
    return pb.PartyMessage(hello=pb.Hello(party=party, protocol_version=PROTOCOL))


def report(job_id: str, event: Event) -> pb.PartyMessage:
    return pb.PartyMessage(report=pb.Report(job_id=job_id, event=reports.to_proto(event)))


class RawStream:
    """One `Party.Connect` call as mallory: the test writes its requests, a reader thread
    keeps every message the coordinator sends back, and the call's final error."""

    def __init__(self, channel: grpc.Channel, first: pb.PartyMessage | None = None) -> None:
        self.outbox = Outbox()
        if first is not None:
            self.outbox.send(first)
        self.received: queue.Queue[pb.CoordinatorMessage] = queue.Queue()
        self.error: grpc.RpcError | None = None
        self.ended = threading.Event()
        stub = pb_grpc.PartyStub(channel)  # type: ignore[no-untyped-call]
        self._call = stub.Connect(iter(self.outbox))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for message in self._call:
                self.received.put(message)
        except grpc.RpcError as exc:
            self.error = exc
        finally:
            self.ended.set()

    def send(self, message: pb.PartyMessage) -> None:
        self.outbox.send(message)

    def next(self, kind: str, timeout: float = 30) -> pb.CoordinatorMessage:
        """The next message of `kind` (welcome, ack, job, error); others are skipped."""
        while True:
            message = self.received.get(timeout=timeout)
            if message.WhichOneof("kind") == kind:
                return message

    def refusal(self, timeout: float = 30) -> grpc.RpcError:
        """The status the call ended with; it must end with an error."""
        assert self.ended.wait(timeout), "the stream was never closed"
        assert self.error is not None, "the stream ended without an error status"
        return self.error

    def close(self) -> None:
        self.outbox.close()
        self._call.cancel()


@contextmanager
def raw_channel(fed: LocalFederation) -> Iterator[grpc.Channel]:
    with grpc.secure_channel(fed.address, mallory_credentials(fed)) as channel:
        yield channel


def mallory_sample(root: Path, replaces: str) -> Path:
    """The breast sample with mallory in the place of `replaces` (holding its table), for
    the simulator's oracle of a job mallory takes part in."""
    folder = root / f"mallory-as-{replaces}"
    folder.mkdir(parents=True, exist_ok=True)
    for table in ("hospital.csv", "lab.csv"):
        shutil.copyfile(BREAST.parent / table, folder / table)
    text = BREAST.read_text()
    assert f'name = "{replaces}"' in text
    (folder / "job.toml").write_text(text.replace(f'name = "{replaces}"', f'name = "{MALLORY}"'))
    return folder / "job.toml"


def deployed_spec(sample: Path, path: Path) -> Path:
    """`sample` as submitted to the federation: data named by its registered dataset."""
    lines = [
        f'data = "{DATASET}"' if line.strip().startswith("data =") else line
        for line in sample.read_text().splitlines()
    ]
    text = "\n".join(lines) + "\n"
    assert "epochs = 20" in text
    path.write_text(text.replace("epochs = 20", f"epochs = {EPOCHS}"))
    return path


class MalloryNode:
    """Mallory's party node, in this process, registering `table` as its dataset."""

    def __init__(self, fed: LocalFederation, table: Path) -> None:
        certs = fed.root / "certs"
        self.fed = fed
        self.config = PartyConfig(
            name=MALLORY,
            coordinator=fed.address,
            state_dir=fed.root / MALLORY / "state",  # where simulated() reads its secret
            auto_approve=True,
            heartbeat_s=2,
            reconnect_max_s=1,
            tls=TlsFiles(
                ca=certs / "ca.pem", cert=certs / f"{MALLORY}.pem", key=certs / f"{MALLORY}.key"
            ),
            datasets=[DatasetConfig(name=DATASET, source=str(table))],
            policy=sample_policy(fed.sample),
        )
        self.node = PartyNode(self.config)

    def __enter__(self) -> MalloryNode:
        self.node.start()
        self.fed.wait_connected([MALLORY])
        return self

    def __exit__(self, *exc: object) -> None:
        self.node.stop()  # its program threads end with their job
        wait_for(lambda: not _connected(self.fed), "mallory's session closes", 30)


def _connected(fed: LocalFederation) -> bool:
    client = operator(fed)
    try:
        return any(p.name == MALLORY and p.connected for p in client.parties())
    finally:
        client.close()
