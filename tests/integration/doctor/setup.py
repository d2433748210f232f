"""A real federation for the doctor's tests: certificates from `init_pki`, a coordinator
with mutual TLS on 127.0.0.1, and a party.toml as an operator writes it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path

import grpc

from coordinator.certs import init_pki
from coordinator.diagnose_servicer import DiagnoseServicer
from coordinator.server import CoordinatorServer
from tests.integration.harness import start_coordinator
from vfl.config.coordinator_config import TlsFiles
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc

CSV = "id,age,income\nu1,30,100\nu2,41,250\n"


def pki(root: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Path:
    out = root / "certs"
    init_pki(out, list(hosts), ["a", "b"])
    return out


def coordinator_tls(certs: Path) -> TlsFiles:
    return TlsFiles(
        ca=certs / "ca.pem", cert=certs / "coordinator.pem", key=certs / "coordinator.key"
    )


@contextmanager
def coordinator(root: Path, certs: Path | None) -> Iterator[CoordinatorServer]:
    """A real coordinator with mTLS from `certs` (None: insecure, loopback only)."""
    server = start_coordinator(root, tls=coordinator_tls(certs) if certs else None)
    try:
        yield server
    finally:
        server.stop(grace=0)


@contextmanager
def diagnose_only(certs: Path, servicer: DiagnoseServicer) -> Iterator[int]:
    """A gRPC server on 127.0.0.1 with mTLS serving only `servicer`: a coordinator as it
    would answer with another version or quota, without the rest of it."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_DiagnoseServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    ca, cert, key = coordinator_tls(certs).read()
    creds = grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=True
    )
    port = server.add_secure_port("127.0.0.1:0", creds)
    server.start()
    try:
        yield port
    finally:
        server.stop(0).wait()


def party_toml(
    root: Path,
    coordinator: str,
    certs: Path,
    name: str = "a",
    cert: str = "a",
    key: str = "a",
    columns: str = '["age", "income"]',
    source: str = "a.csv",
) -> Path:
    (root / "a.csv").write_text(CSV)
    path = root / "party.toml"
    path.write_text(
        f'name = "{name}"\ncoordinator = "{coordinator}"\n'
        f'[tls]\nca = "{certs / "ca.pem"}"\ncert = "{certs / f"{cert}.pem"}"\n'
        f'key = "{certs / f"{key}.key"}"\n'
        f'[[datasets]]\nname = "customers"\nsource = "{source}"\ncolumns = {columns}\n'
    )
    return path
