"""End to end over gRPC with mTLS and real party nodes: what the coordinator relays is
sealed ciphertext it cannot open, the party ledgers say so, the parties report only what
they chose, a coordinator that substitutes a party's per-job key is caught, and once the
job is purged, stealing the parties' certificate keys, long-term keys and state folders
opens none of the bodies it recorded (forward secrecy)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from coordinator.store import Job
from tests.forward_secrecy_harness import Loot, bodies_opened
from tests.integration import node_federation
from tests.integration.harness import wait_for
from tests.integration.node_federation import NodeFederation, breast_job
from tests.sealing_harness import (
    CHI2_LIMIT,
    chi_square,
    ciphertext_of,
    coordinator_keys,
    opens_with_any,
)
from vfl.crypto.sealing import SEALING_NAME, FileJobKeys, IdentityKey, JobKeySealer, KeyStatement
from vfl.crypto.sealing.job_key_book import JobKeyBook
from vfl.crypto.sealing.sealed_body import associated_data
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.runtime.node_store import PURGED


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[NodeFederation]:
    # The lab keeps its intersection size (AlignReport) to itself and the hospital its
    # batch losses; both are reported when a party names every kind (the default).
    running = node_federation.start(
        tmp_path,
        report={"lab": ("progress",), "hospital": ("progress", "align", "epoch", "metrics")},
    )
    yield running
    running.stop()


def _statement(data: bytes) -> KeyStatement:
    k = pb.SealingKey.FromString(data)
    return KeyStatement(k.party, k.public_key, k.certificate, k.signature)


def _statements(fed: NodeFederation) -> dict[str, KeyStatement]:
    raw = fed.server.store.sealing_keys(list(fed.nodes))
    return {name: _statement(data) for name, data in raw.items()}


def _record_job_keys(book: JobKeyBook) -> list[KeyStatement]:
    """Every per-job statement the coordinator is given, as it could keep it."""
    seen: list[KeyStatement] = []
    put = book.put

    def recording(job_id: str, party: str, statement: bytes) -> bool:
        seen.append(_statement(statement))
        return put(job_id, party, statement)

    book.put = recording  # type: ignore[method-assign]
    return seen


def test_relayed_bodies_are_sealed_and_the_coordinator_cannot_open_them(
    fed: NodeFederation,
) -> None:
    job_keys = _record_job_keys(fed.server.hosted.job_keys)
    job_id, state, error = fed.run_job(breast_job(epochs=2))
    assert state == "succeeded", error
    job = fed.server.store.job(job_id)
    assert job is not None
    envelopes = [Envelope.from_bytes(data) for data in fed.relayed]
    assert len(envelopes) > 20
    assert {k.party for k in job_keys} == set(fed.nodes)
    guesses = coordinator_keys(_statements(fed), job_id, job.spec_json)
    guesses += coordinator_keys({k.party: k for k in job_keys}, job_id, job.spec_json)
    for envelope in envelopes:
        assert envelope.body[0] == 1  # the sealed format, every one
        assert not opens_with_any(guesses, envelope.body, associated_data(envelope))
    assert chi_square(b"".join(ciphertext_of(e.body) for e in envelopes)) < CHI2_LIMIT
    for node in fed.nodes.values():
        ledger = node.store.ledger(job_id)
        assert ledger and {e.sealing for e in ledger} == {SEALING_NAME}
    events = [(party, json.loads(p)["type"]) for party, p in fed.server.store.events(job_id)]
    assert {t for party, t in events if party == "lab"} == set()
    hospital = {t for party, t in events if party == "hospital"}
    assert {"AlignReport", "EpochReport", "MetricsReport"} <= hospital
    assert "StepReport" not in hospital


def test_coordinator_that_substitutes_a_per_job_key_fails_the_job(fed: NodeFederation) -> None:
    hosted = fed.server.hosted
    honest = hosted.job_keys_of

    def swapping(job: Job) -> dict[str, bytes]:
        keys = honest(job)
        if "lab" in keys:  # the relay man-in-the-middle: its own per-job key for the lab
            lab = pb.SealingKey.FromString(keys["lab"])
            lab.public_key = IdentityKey.generate().public_bytes
            keys["lab"] = lab.SerializeToString()
        return keys

    hosted.job_keys_of = swapping  # type: ignore[method-assign]
    _, state, error = fed.run_job(breast_job(epochs=1))
    assert state == "failed"
    assert error is not None and "hospital" in error
    assert "JobUpdate.job_keys: peer lab: its sealing key is not bound to its certificate" in error
    # Nothing was ever sealed under the coordinator's key: only the hospital was shown the
    # swapped key, and it sent the lab nothing. (The lab, shown the hospital's true key,
    # may have sent its first align message before the failure stopped the job.)
    assert ("hospital", "lab") not in fed.routes


@pytest.mark.parametrize("erased", [True, False], ids=["job-keys-erased", "broken-kept"])
def test_stolen_keys_and_state_open_no_recorded_body_of_a_purged_job(
    fed: NodeFederation, erased: bool
) -> None:
    if not erased:  # the broken variant: the attack below must then open every body
        for node in fed.nodes.values():
            assert isinstance(node.sealer, JobKeySealer)
            node.sealer._job_keys.erase = lambda job_id: None  # type: ignore[method-assign]
    job_keys = _record_job_keys(fed.server.hosted.job_keys)
    job_id, state, error = fed.run_job(breast_job(epochs=1))
    assert state == "succeeded", error
    for node in fed.nodes.values():
        wait_for(lambda n=node: n._ended.get(job_id, ("", 0))[0] == PURGED, "purge")
        key_file = FileJobKeys(node.config.state_dir / "jobs").path(job_id)
        assert key_file.exists() is not erased
    envelopes = [Envelope.from_bytes(data) for data in fed.relayed]
    assert len(envelopes) > 20
    for node in fed.nodes.values():  # long-term keys are in the stolen folders (PEM)
        assert (node.config.state_dir / "sealing_x25519.key").exists()
    stolen = Loot(
        state_dirs=(*(n.config.state_dir for n in fed.nodes.values()), fed.root / "certs"),
        long_term=(),
        publics=(*_statements(fed).values(), *job_keys),
    )
    opened = bodies_opened(envelopes, stolen, spec_json=_spec(fed, job_id))
    assert opened == (0 if erased else len(envelopes))


def _spec(fed: NodeFederation, job_id: str) -> str:
    job = fed.server.store.job(job_id)
    assert job is not None
    return job.spec_json


def test_a_peer_that_does_not_seal_fails_the_job_instead_of_being_waited_for(
    fed: NodeFederation,
) -> None:
    honest = fed.server.store.sealing_keys

    def without_lab(names: Sequence[str]) -> dict[str, bytes]:
        return {k: v for k, v in honest(names).items() if k != "lab"}  # as if seal = false

    fed.server.store.sealing_keys = without_lab  # type: ignore[method-assign]
    _, state, error = fed.run_job(breast_job(epochs=1))
    assert state == "failed"
    assert error is not None and "peer lab published no sealing key" in error
