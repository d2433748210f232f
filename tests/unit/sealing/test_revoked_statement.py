"""A party refuses a peer's sealing statement signed with a certificate the CA revoked, and
takes the CA's revocation list only as the CA signed it, never an older one, whoever
relays it."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordinator.authority import CertificateAuthority
from coordinator.certs import init_pki
from parties.sealing_keys import offer_crl
from tests.sealing_harness import SPEC_JSON, federation
from vfl.crypto.sealing import FileJobKeys, JobKeySealer, MemoryCounters
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.crypto.sealing.revocation import PeerRevocations, RevocationList
from vfl.errors import CryptoError
from vfl.protocol.v1 import coordinator_pb2 as pb


def test_statement_of_a_revoked_peer_is_refused_at_admission(tmp_path: Path) -> None:
    fed = federation(tmp_path)
    ca = CertificateAuthority(fed.pki)
    before = ca.write_crl().read_bytes()
    sealer = fed.sealer("a")
    offer_crl(sealer, pb.JobUpdate(job_id="j1", crl=before))
    sealer.admit("j1", job_digest(SPEC_JSON), fed.keys, fed.statements.values())  # accepted
    ca.revoke(name="b")
    offer_crl(sealer, pb.JobUpdate(job_id="j2", crl=(fed.pki / "crl.pem").read_bytes()))
    with pytest.raises(CryptoError, match=r"peer b: .*revoked by the CA"):
        sealer.admit("j2", job_digest(SPEC_JSON), fed.keys, fed.statements.values())
    # the same admission without the list is what a party without revocation would do
    fresh = fed.sealer("a")
    fresh.admit("j2", job_digest(SPEC_JSON), fed.keys, fed.statements.values())


def test_a_relay_can_neither_forge_nor_roll_back_the_list(tmp_path: Path) -> None:
    fed = federation(tmp_path)
    ca = CertificateAuthority(fed.pki)
    before = ca.write_crl().read_bytes()  # genuine, but from before b was revoked
    ca.revoke(name="b")
    revoked_b = (fed.pki / "crl.pem").read_bytes()
    serial_b = int(next(r.serial for r in ca.issued() if r.name == "b"), 16)
    held = PeerRevocations(fed.ca)
    held.offer(revoked_b, "coordinator")
    assert held.revoked(serial_b)
    # a list from another CA (one the coordinator made) is refused and changes nothing
    rogue = tmp_path / "rogue"
    init_pki(rogue, ["127.0.0.1"], ["b"])
    for _ in range(4):  # up to a higher number than ours: still refused
        forged = CertificateAuthority(rogue).write_crl().read_bytes()
    with pytest.raises(CryptoError, match="CRL"):
        held.offer(forged, "coordinator")
    sealer = fed.sealer("a")
    offer_crl(sealer, pb.JobUpdate(job_id="j", crl=revoked_b))
    offer_crl(sealer, pb.JobUpdate(job_id="j", crl=forged))  # logged, not raised
    assert sealer.revocations.revoked(serial_b)
    # an older genuine list (replayed from before b was revoked) does not undo it
    held.offer(before, "coordinator")
    assert held.revoked(serial_b)
    rolled_back = PeerRevocations(fed.ca)  # the oracle: that list alone does not revoke b
    rolled_back.offer(before, "coordinator")
    assert not rolled_back.revoked(serial_b)
    # tampering with the bytes breaks the CA's signature
    tampered = bytearray(RevocationList.parse(revoked_b, fed.ca, "x").der)
    tampered[-5] ^= 1
    with pytest.raises(CryptoError):
        RevocationList.parse(bytes(tampered), fed.ca, "relay")


def test_per_job_key_of_a_revoked_peer_is_refused(tmp_path: Path) -> None:
    """The forward-secret sealer checks the list too: b's per-job key, signed with its
    revoked certificate, is refused; without the list the same key is admitted."""
    fed = federation(tmp_path)
    ca = CertificateAuthority(fed.pki)
    digest = job_digest(SPEC_JSON)

    def sealer(party: str) -> JobKeySealer:
        cert, key = (fed.pki / f"{party}.pem").read_bytes(), (fed.pki / f"{party}.key").read_bytes()
        jobs = FileJobKeys(tmp_path / party / "jobs")
        return JobKeySealer(party, fed.ca, MemoryCounters(), jobs, cert, key)

    a, b = sealer("a"), sealer("b")
    published = [a.job_statement("j", digest), b.job_statement("j", digest)]
    ca.revoke(name="b")
    offer_crl(a, pb.JobUpdate(job_id="j", crl=(fed.pki / "crl.pem").read_bytes()))
    with pytest.raises(CryptoError, match=r"job j: .*peer b: .*revoked by the CA"):
        a.admit("j", digest, ["a", "b"], published)
    sealer("a").admit("j", digest, ["a", "b"], published)  # no list: admitted
