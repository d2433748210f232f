"""Revocation and rotation on a real deployment (mTLS on loopback, real party nodes): a
party renews its certificate mid-job and its job carries on; the coordinator then refuses
the old certificate, closes the streams of revoked ones, and reloads its CRL without a
restart."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization

from coordinator.authority import CertificateAuthority
from coordinator.cert_request import install, make_request
from coordinator.certs import Role
from parties.link_identity import LinkIdentity
from tests.integration import node_federation
from tests.integration.harness import wait_for
from tests.integration.node_federation import TERMINAL, NodeFederation, breast_job
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[NodeFederation]:
    running = node_federation.start(tmp_path, crl=True)
    yield running
    running.stop()


def _serial(fed: NodeFederation, party: str) -> int:
    refresh = fed.nodes[party].link._refresh
    assert isinstance(refresh, LinkIdentity)
    return refresh.serial


def _renew(pki: Path, party: str) -> int:
    ca = CertificateAuthority(pki)
    made = make_request(pki, party, Role.PARTY, renew=True)
    cert = ca.sign(ca.inspect(made.csr.read_bytes(), str(made.csr)), renew=True)
    install(
        pki, party, cert.public_bytes(serialization.Encoding.PEM), (pki / "ca.pem").read_bytes()
    )
    return cert.serial_number


def _list_jobs(fed: NodeFederation, cert: Path, key: Path) -> None:
    pki = fed.root / "certs"
    creds = grpc.ssl_channel_credentials(
        (pki / "ca.pem").read_bytes(), key.read_bytes(), cert.read_bytes()
    )
    with grpc.secure_channel(fed.server.address, creds) as channel:
        stub = pb_grpc.AdminStub(channel)  # type: ignore[no-untyped-call]
        stub.ListJobs(pb.ListJobsRequest(), timeout=10)


def test_party_renews_mid_job_and_the_old_certificate_is_then_refused(
    fed: NodeFederation,
) -> None:
    pki = fed.root / "certs"
    old = _serial(fed, "hospital")
    shutil.copy(pki / "hospital.pem", fed.root / "old.pem")
    shutil.copy(pki / "hospital.key", fed.root / "old.key")
    job = fed.server.lifecycle.submit(breast_job(epochs=4), "operator", is_operator=True)

    def state() -> str:
        found = fed.server.store.job(job.id)
        assert found is not None
        return found.state

    wait_for(lambda: state() not in ("pending", "approved"), "the job starts")
    new = _renew(pki, "hospital")

    def renewed() -> bool:
        session = fed.server.sessions.get("hospital")
        return session is not None and session.serial == new

    wait_for(renewed, "the hospital reconnects with its renewed certificate")
    assert state() not in TERMINAL, "the job ended before the rotation; make it longer"
    assert _serial(fed, "hospital") == new != old
    CertificateAuthority(pki).revoke(serial=format(old, "x"))
    # the running job finishes; nothing of it is lost to the reconnect or the revocation
    wait_for(lambda: state() in TERMINAL, "the job ends", limit_s=600)
    found = fed.server.store.job(job.id)
    assert found is not None and (found.state, found.error) == ("succeeded", None)
    # the old certificate is refused at once (CRL reloaded, no restart)
    with pytest.raises(grpc.RpcError) as refused:
        _list_jobs(fed, fed.root / "old.pem", fed.root / "old.key")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "revoked" in str(refused.value.details())
    _list_jobs(fed, pki / "hospital.pem", pki / "hospital.key")  # the renewed one works


def test_revoking_a_connected_party_closes_its_stream_and_refuses_it(
    fed: NodeFederation,
) -> None:
    pki = fed.root / "certs"
    lab = fed.nodes["lab"]
    assert lab.link.connected.is_set()
    _list_jobs(fed, pki / "lab.pem", pki / "lab.key")
    CertificateAuthority(pki).revoke(name="lab")
    wait_for(lambda: fed.server.sessions.get("lab") is None, "the lab's stream closes")
    wait_for(lambda: not lab.link.connected.is_set(), "the lab's node sees it")
    with pytest.raises(grpc.RpcError) as refused:
        _list_jobs(fed, pki / "lab.pem", pki / "lab.key")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert fed.server.sessions.get("lab") is None  # and its node cannot come back
    assert fed.server.sessions.get("hospital") is not None  # others are untouched
