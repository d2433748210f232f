"""End to end over gRPC with mTLS and real party nodes: what the coordinator relays is
sealed ciphertext it cannot open, the party ledgers say so, the parties report only what
they chose, and a coordinator that substitutes a party's key is caught."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from tests.integration import node_federation
from tests.integration.node_federation import NodeFederation, breast_job
from tests.sealing_harness import (
    CHI2_LIMIT,
    chi_square,
    ciphertext_of,
    coordinator_keys,
    opens_with_any,
)
from vfl.crypto.sealing import SEALING_NAME, IdentityKey, KeyStatement
from vfl.crypto.sealing.sealed_body import associated_data
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import coordinator_pb2 as pb


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


def _statements(fed: NodeFederation) -> dict[str, KeyStatement]:
    raw = fed.server.store.sealing_keys(list(fed.nodes))
    out = {}
    for name, data in raw.items():
        k = pb.SealingKey.FromString(data)
        out[name] = KeyStatement(k.party, k.public_key, k.certificate, k.signature)
    return out


def test_relayed_bodies_are_sealed_and_the_coordinator_cannot_open_them(
    fed: NodeFederation,
) -> None:
    job_id, state, error = fed.run_job(breast_job(epochs=2))
    assert state == "succeeded", error
    job = fed.server.store.job(job_id)
    assert job is not None
    envelopes = [Envelope.from_bytes(data) for data in fed.relayed]
    assert len(envelopes) > 20
    guesses = coordinator_keys(_statements(fed), job_id, job.spec_json)
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


def test_coordinator_that_substitutes_a_key_fails_the_job(fed: NodeFederation) -> None:
    honest = fed.server.store.sealing_keys

    def swapping(names: Sequence[str]) -> dict[str, bytes]:
        keys = dict(honest(names))
        if "lab" in keys:  # the classic relay man-in-the-middle: its own key for the lab
            lab = pb.SealingKey.FromString(keys["lab"])
            mitm = replace(
                KeyStatement(lab.party, lab.public_key, lab.certificate, lab.signature),
                public_key=IdentityKey.generate().public_bytes,
            )
            keys["lab"] = pb.SealingKey(
                party=mitm.party,
                public_key=mitm.public_key,
                certificate=mitm.certificate,
                signature=mitm.signature,
            ).SerializeToString()
        return keys

    fed.server.store.sealing_keys = swapping  # type: ignore[method-assign]
    _, state, error = fed.run_job(breast_job(epochs=1))
    assert state == "failed"
    assert error is not None and "hospital" in error
    assert "peer lab: its sealing key is not bound to its certificate" in error
    # Nothing was ever sealed under the coordinator's key: only the hospital was shown the
    # swapped key, and it sent the lab nothing. (The lab, shown the hospital's true key,
    # may have sent its first align message before the failure stopped the job.)
    assert ("hospital", "lab") not in fed.routes
