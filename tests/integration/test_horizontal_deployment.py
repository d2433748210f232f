"""A horizontal job over real gRPC with mTLS: party nodes hold the rows, the coordinator
hosts the aggregator. Its model equals the simulator's run of the same spec with the same
party secrets (to 1e-9 on the plain path and with secure int8, whose masked 16-bit levels
cross the wire as such, 1e-4 under secure aggregation's fixed point),
every relayed body is sealed (party to party, and to and from the coordinator), and an
error in the hosted aggregator fails the job naming the coordinator."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from tests.integration import node_federation
from tests.integration.node_federation import NodeFederation
from vfl.api import simulate
from vfl.config.loading import parse_job
from vfl.crypto.sealing import SEALING_NAME
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.protocol.envelope import Envelope
from vfl.runtime.party_secret import secret_file

COORDINATOR = "coordinator"


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    return synthetic_horizontal(tmp_path / "data", parties=3)


@pytest.fixture
def fed(tmp_path: Path, data: dict[str, Path]) -> Iterator[NodeFederation]:
    running = node_federation.start(tmp_path, datasets=data)
    yield running
    running.stop()


def _deployed_toml(spec: dict[str, Any], path: Path) -> str:
    """The spec as submitted: each party's data named by its registered dataset."""
    deployed = copy.deepcopy(spec)
    for party in deployed["parties"]:
        party["data"] = "data"
    return write_toml(path, deployed).read_text()


def _secrets(fed: NodeFederation, job_id: str) -> dict[str, bytes]:
    """Each participant's party secret of the job, the coordinator's (if it drew one) too."""
    folders = {name: fed.root / name for name in fed.nodes}
    folders[COORDINATOR] = fed.server.hosted.root
    files = {n: f / "jobs" / job_id / "private" / secret_file(job_id) for n, f in folders.items()}
    return {name: path.read_bytes() for name, path in files.items() if path.exists()}


SECURE_INT8 = {"secure_aggregation": True, "compression": "int8", "int8_bound": 16.0}


@pytest.mark.parametrize(
    ("train", "tol"),
    [
        ({"secure_aggregation": False}, 1e-9),
        ({"secure_aggregation": True}, 1e-4),
        (SECURE_INT8, 1e-9),
    ],
    ids=["plain", "secure", "secure-int8"],
)
def test_hosted_aggregator_trains_the_simulators_model_over_sealed_bodies(
    fed: NodeFederation, data: dict[str, Path], tmp_path: Path, train: dict[str, Any], tol: float
) -> None:
    secure = bool(train["secure_aggregation"])
    spec = horizontal_dict(data, train=train)
    job_id, state, error = fed.run_job(_deployed_toml(spec, tmp_path / "job.toml"), limit_s=300)
    assert state == "succeeded", error
    job = fed.server.store.job(job_id)
    assert job is not None
    hosted = fed.server.hosted.root / "jobs" / job_id / "model" / "weights.npz"
    simulated = simulate(
        parse_job(spec, source="test"),
        workdir=tmp_path / "sim",
        job_id=job_id,
        party_secrets=_secrets(fed, job_id),
        spec_digest=job_digest(job.spec_json),
    )
    assert simulated.status == "succeeded", simulated.error
    want = np.load(tmp_path / "sim" / COORDINATOR / "model" / "weights.npz")["params"]
    got = np.load(hosted)["params"]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)

    # every body the relay held was sealed, in every direction
    envelopes = [Envelope.from_bytes(d) for d in fed.relayed]
    assert {e.body[0] for e in envelopes} == {1}
    routes = set(fed.routes)
    assert {(p, COORDINATOR) for p in data} <= routes
    assert {(COORDINATOR, p) for p in data} <= routes
    assert any(src != COORDINATOR and dst != COORDINATOR for src, dst in routes) == secure
    ledgers = [fed.server.hosted.state.ledger(job_id)]
    ledgers += [node.store.ledger(job_id) for node in fed.nodes.values()]
    for ledger in ledgers:
        assert ledger and {e.sealing for e in ledger} == {SEALING_NAME}

    # the aggregator's reports reached the result, as the simulator's did
    result = fed.server.book.result(job)
    assert len(result.history) == spec["train"]["rounds"]
    assert set(result.metrics) == set(simulated.metrics)
    assert result.metrics["validation"] == pytest.approx(simulated.metrics["validation"], abs=tol)
    runs = fed.server.store.phases_done(job_id)
    assert all(COORDINATOR in parties for parties in runs.values())


def test_error_in_the_hosted_aggregator_fails_the_job_naming_the_coordinator(
    fed: NodeFederation, data: dict[str, Path], tmp_path: Path
) -> None:
    frame = pd.read_csv(data["site-b"]).rename(columns={"f3": "g3"})
    frame.to_csv(data["site-b"], index=False)  # site-b's columns differ from the others'
    spec = horizontal_dict(data)
    _, state, error = fed.run_job(_deployed_toml(spec, tmp_path / "job.toml"), limit_s=120)
    assert state == "failed"
    assert error is not None and error.startswith("coordinator failed train:")
    assert "site-b" in error and "feature columns differ" in error
