"""Per-job sealing keys: peers accept one only if its party's certificate signed it for this
job (a coordinator substituting its own is refused in one line, and would read the bodies
if it were not), a node restarted mid-job keeps its key, and forgetting a job erases it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from parties.sealing_keys import job_key_message
from tests.sealing_harness import SPEC_JSON, Federation, federation, opens_with_any
from vfl.crypto.sealing import FileJobKeys, JobKeySealer, MemoryCounters, MemoryJobKeys
from vfl.crypto.sealing.job_key import new_private, private_key, public_bytes, sign_job_key
from vfl.crypto.sealing.key_statement import KeyStatement
from vfl.crypto.sealing.pair_key import derive_pair_key
from vfl.crypto.sealing.pairwise_sealer import _JobKeys, job_digest
from vfl.crypto.sealing.sealed_body import associated_data
from vfl.errors import CryptoError
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import coordinator_pb2 as pb

JOB, OTHER = "job-k", "job-other"
DIGEST = job_digest(SPEC_JSON)


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    return federation(tmp_path_factory.mktemp("jobkeys"), ("a", "b"))


def _sealer(fed: Federation, party: str, keys: MemoryJobKeys | FileJobKeys) -> JobKeySealer:
    cert, key = (fed.pki / f"{party}.pem").read_bytes(), (fed.pki / f"{party}.key").read_bytes()
    return JobKeySealer(party, fed.ca, MemoryCounters(), keys, cert, key)


class TrustingSealer(JobKeySealer):
    """Broken: takes the relayed per-job keys without checking who signed them."""

    def admit(
        self, job_id: str, digest: bytes, peers: Iterable[str], statements: Iterable[KeyStatement]
    ) -> None:
        own = private_key(self._job_keys.load_or_create(job_id), job_id)
        keys = _JobKeys()
        for s in statements:
            if s.party != self.party:
                shared = own.exchange(X25519PublicKey.from_public_bytes(s.public_key))
                self._pair(keys, job_id, digest, s.party, shared, public_bytes(own), s.public_key)
        self._install(job_id, keys)


def _coordinator_substitutes(fed: Federation, victim: JobKeySealer) -> tuple[KeyStatement, bytes]:
    """The coordinator's own per-job key for b, signed with its own certificate, and the
    key it then shares with a (the relay man-in-the-middle)."""
    mine = private_key(new_private(), "coordinator")
    pki = fed.pki
    cert, key = (pki / "coordinator.pem").read_bytes(), (pki / "coordinator.key").read_bytes()
    forged = sign_job_key("b", JOB, DIGEST, mine, cert, key)
    a_public = victim.job_statement(JOB, DIGEST).public_key
    shared = mine.exchange(X25519PublicKey.from_public_bytes(a_public))
    return forged, derive_pair_key(shared, JOB, DIGEST, "a", "b", a_public, forged.public_key)


def test_coordinator_substituting_its_own_job_key_is_refused_in_one_line(fed: Federation) -> None:
    a = _sealer(fed, "a", MemoryJobKeys())
    forged, _ = _coordinator_substitutes(fed, a)
    with pytest.raises(CryptoError) as refused:
        a.admit(JOB, DIGEST, ["a", "b"], [forged])
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith(f"job {JOB}: JobUpdate.job_keys: peer b: ")
    assert "not this party's" in line and "substituted a key" in line


def test_a_trusting_sealer_lets_the_substituting_coordinator_read_bodies(fed: Federation) -> None:
    cert, key = (fed.pki / "a.pem").read_bytes(), (fed.pki / "a.key").read_bytes()
    a = TrustingSealer("a", fed.ca, MemoryCounters(), MemoryJobKeys(), cert, key)
    forged, coordinator_key = _coordinator_substitutes(fed, a)
    a.admit(JOB, DIGEST, ["a", "b"], [forged])
    sealed = a.seal(Envelope(JOB, "a", "b", "k", "s#0", b"secret row"))
    assert opens_with_any([coordinator_key], sealed.body, associated_data(sealed))


def test_job_keys_signed_for_something_else_are_refused(fed: Federation) -> None:
    a, b = _sealer(fed, "a", MemoryJobKeys()), _sealer(fed, "b", MemoryJobKeys())
    genuine = b.job_statement(JOB, DIGEST)
    cases = {
        "another job": b.job_statement(OTHER, DIGEST),
        "another spec": b.job_statement(JOB, job_digest('{"job": "other"}')),
        "b's long-term key": fed.statements["b"],
        "a swapped key": replace(genuine, public_key=public_bytes(private_key(new_private(), ""))),
    }
    for why, statement in cases.items():
        with pytest.raises(CryptoError, match=r"peer b: .*signature does not match"):
            a.admit(JOB, DIGEST, ["a", "b"], [statement])
            pytest.fail(f"accepted {why}")
    a.admit(JOB, DIGEST, ["a", "b"], [genuine])  # the positive control
    with pytest.raises(CryptoError, match="no per-job key of peer b"):
        a.admit(OTHER, DIGEST, ["a", "b"], [])


def test_each_job_gets_a_fresh_key_unrelated_to_the_long_term_one(fed: Federation) -> None:
    a = _sealer(fed, "a", MemoryJobKeys())
    first, second = a.job_statement(JOB, DIGEST), a.job_statement(OTHER, DIGEST)
    again = _sealer(fed, "a", MemoryJobKeys()).job_statement(JOB, DIGEST)  # same party
    publics = {first.public_key, second.public_key, again.public_key, fed.keys["a"].public_bytes}
    assert len(publics) == 4
    assert a.job_statement(JOB, DIGEST).public_key == first.public_key  # stable in the job


def test_node_restarted_mid_job_resumes_with_the_same_key(fed: Federation, tmp_path: Path) -> None:
    a, b = _sealer(fed, "a", MemoryJobKeys()), _sealer(fed, "b", FileJobKeys(tmp_path / "jobs"))
    published = [a.job_statement(JOB, DIGEST), b.job_statement(JOB, DIGEST)]
    a.admit(JOB, DIGEST, ["a", "b"], published)
    b.admit(JOB, DIGEST, ["a", "b"], published)
    journalled = a.seal(Envelope(JOB, "a", "b", "k", "s#0", b"before the crash"))
    path = FileJobKeys(tmp_path / "jobs").path(JOB)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700

    restarted = _sealer(fed, "b", FileJobKeys(tmp_path / "jobs"))  # kill -9, start again
    assert restarted.job_statement(JOB, DIGEST).public_key == published[1].public_key
    restarted.admit(JOB, DIGEST, ["a", "b"], published)
    assert restarted.open(journalled).body == b"before the crash"
    assert a.open(restarted.seal(Envelope(JOB, "b", "a", "k", "s#1", b"after"))).body == b"after"


def test_forgetting_a_job_overwrites_and_unlinks_its_key(fed: Federation, tmp_path: Path) -> None:
    keys = FileJobKeys(tmp_path / "jobs")
    b = _sealer(fed, "b", keys)
    b.job_statement(JOB, DIGEST)
    b.job_statement(OTHER, DIGEST)
    path = keys.path(JOB)
    witness = tmp_path / "witness"
    witness.hardlink_to(path)  # sees the file's blocks after the unlink
    assert witness.read_bytes() != bytes(32)
    b.forget(JOB)
    assert not path.exists()
    assert witness.read_bytes() == bytes(32)  # overwritten in place before the unlink
    assert keys.path(OTHER).exists()  # another job's key is untouched
    b.forget(JOB)  # forgetting twice is not an error


def test_a_party_republishes_its_job_key_only_when_an_update_lacks_it(
    fed: Federation, tmp_path: Path
) -> None:
    # the coordinator keeps per-job keys in memory only: after its restart, updates come
    # without them and each party must send its own again, the same key (kept on disk)
    b = _sealer(fed, "b", FileJobKeys(tmp_path / "jobs"))
    first = job_key_message(b, JOB, SPEC_JSON, [])
    assert first is not None and first.job_id == JOB and first.key.party == "b"
    assert job_key_message(b, JOB, SPEC_JSON, [first.key]) is None
    restarted = _sealer(fed, "b", FileJobKeys(tmp_path / "jobs"))
    again = job_key_message(restarted, JOB, SPEC_JSON, [])
    assert again is not None and again.key.public_key == first.key.public_key
    as_a = pb.SealingKey(party="a", public_key=first.key.public_key)  # a's entry, not b's
    assert job_key_message(b, JOB, SPEC_JSON, [as_a]) is not None
