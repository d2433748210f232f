"""A party accepts a peer's sealing key only if the peer's own certificate signed it: the
coordinator that relays the statements cannot substitute keys of its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from coordinator.certs import init_pki
from tests.sealing_harness import SPEC_JSON, Federation, federation
from vfl.crypto.sealing import IdentityKey, verify_statement
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.errors import CryptoError


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    return federation(tmp_path_factory.mktemp("pinning"), ("a", "b"))


def test_genuine_statement_is_accepted(fed: Federation) -> None:
    key = verify_statement(fed.statements["b"], "b", fed.ca)
    assert key.public_bytes_raw() == fed.keys["b"].public_bytes


def test_coordinator_key_under_the_peers_certificate_is_refused(fed: Federation) -> None:
    swapped = replace(fed.statements["b"], public_key=IdentityKey.generate().public_bytes)
    with pytest.raises(CryptoError, match=r"peer b: .*signature does not match"):
        verify_statement(swapped, "b", fed.ca)


def test_coordinator_signing_with_its_own_certificate_is_refused(fed: Federation) -> None:
    pki = fed.pki
    own = IdentityKey.generate().statement(
        "b", (pki / "coordinator.pem").read_bytes(), (pki / "coordinator.key").read_bytes()
    )
    with pytest.raises(CryptoError, match="not this party's"):
        verify_statement(own, "b", fed.ca)


def test_another_partys_statement_is_refused(fed: Federation) -> None:
    with pytest.raises(CryptoError, match="names 'a'"):
        verify_statement(fed.statements["a"], "b", fed.ca)
    relabelled = replace(fed.statements["a"], party="b")  # a's certificate, b's name
    with pytest.raises(CryptoError, match="not this party's"):
        verify_statement(relabelled, "b", fed.ca)


def test_certificate_from_another_ca_is_refused(fed: Federation, tmp_path: Path) -> None:
    rogue = tmp_path / "rogue"
    init_pki(rogue, ["127.0.0.1"], ["b"])  # a CA the coordinator made, issuing a "b"
    forged = IdentityKey.generate().statement(
        "b", (rogue / "b.pem").read_bytes(), (rogue / "b.key").read_bytes()
    )
    verify_statement(forged, "b", (rogue / "ca.pem").read_bytes())  # valid for its own CA
    with pytest.raises(CryptoError, match="not issued by this federation's CA"):
        verify_statement(forged, "b", fed.ca)


def test_expired_certificate_is_refused(fed: Federation) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=5000)
    with pytest.raises(CryptoError, match="expired"):
        verify_statement(fed.statements["b"], "b", fed.ca, now=later)


def test_admit_refuses_a_job_whose_peer_key_was_substituted(fed: Federation) -> None:
    a = fed.sealer("a")
    swapped = {**fed.statements, "b": replace(fed.statements["b"], public_key=bytes(range(32)))}
    with pytest.raises(CryptoError, match="peer b"):
        a.admit("job", job_digest(SPEC_JSON), ["a", "b"], swapped.values())
    with pytest.raises(CryptoError, match="peer b published no sealing key"):
        a.admit("job", job_digest(SPEC_JSON), ["a", "b"], [fed.statements["a"]])


def test_identity_key_is_kept_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sealing.key"
    made = IdentityKey.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert IdentityKey.load_or_create(path).public_bytes == made.public_bytes


def test_coordinator_statement_is_accepted_only_as_the_coordinator(fed: Federation) -> None:
    # it hosts the horizontal aggregator: its key is bound to its own certificate (OU
    # coordinator) and to no party's name
    pki = fed.pki
    cert, key = (pki / "coordinator.pem").read_bytes(), (pki / "coordinator.key").read_bytes()
    mine = IdentityKey.generate()
    verify_statement(mine.statement("coordinator", cert, key), "coordinator", fed.ca)
    party_cert = (pki / "a.pem").read_bytes(), (pki / "a.key").read_bytes()
    posing = mine.statement("coordinator", *party_cert)  # a party posing as the aggregator
    with pytest.raises(CryptoError, match="not this party's"):
        verify_statement(posing, "coordinator", fed.ca)
