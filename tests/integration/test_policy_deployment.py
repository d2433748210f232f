"""A job outside a party's party.toml [policy] fails at approval, never mid-training.

Real party nodes and a coordinator over gRPC with mTLS (tests/integration/node_federation):
the hospital accepts the breast sample's protection "none", the lab keeps the default
policy (paillier only). The lab's node declines the job the moment it sees it; the job
fails naming the lab and the rule, no phase starts and nothing is relayed; then a job
inside both policies runs to the end on the same coordinator and nodes. The same refusal
by hand: `vfl party approve` with the lab's party.toml, its node down.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from parties.node import PartyNode
from tests.integration import node_federation
from tests.integration.node_federation import BREAST_POLICY, NodeFederation, breast_job
from vfl.cli.main import main
from vfl.config.loading import parse_job
from vfl.config.party_config import PartyConfig
from vfl.config.party_policy import PartyPolicy

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _refusal(job_id: str) -> str:
    return (
        f"job {job_id}: train.protection = 'none' is not allowed by party.toml [policy] "
        "protections (allowed: paillier); add it or ask for paillier"
    )


def _paillier_job() -> str:
    """The breast sample under Paillier, one epoch: inside both parties' policies."""
    lines = [
        'data = "data"' if line.startswith("data =") else line
        for line in (SAMPLES / "breast_paillier" / "job.toml").read_text().splitlines()
    ]
    return "\n".join(lines).replace("epochs = 8", "epochs = 1")


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[NodeFederation]:
    policies = {"hospital": BREAST_POLICY, "lab": PartyPolicy()}
    running = node_federation.start(tmp_path, policies=policies)
    yield running
    running.stop()


def test_a_job_outside_policy_fails_at_approval_and_both_keep_serving(
    fed: NodeFederation,
) -> None:
    job_id, state, error = fed.run_job(breast_job(epochs=1))
    assert state == "failed"
    assert error == f"party lab declined: {_refusal(job_id)}"
    assert fed.server.store.phase_timings(job_id) == []  # no phase ever started
    assert fed.relayed == []  # not one envelope crossed
    assert ("lab", f"declined: {_refusal(job_id)}") in [
        (party, text) for _, party, text in fed.server.store.logs(job_id)
    ]
    assert fed.nodes["lab"].store.phase(job_id, "align") is None

    _, state, error = fed.run_job(_paillier_job())
    assert (state, error) == ("succeeded", None)
    assert all(node.link.connected.is_set() for node in fed.nodes.values())


def _party_toml(fed: NodeFederation, name: str) -> Path:
    certs = fed.root / "certs"
    path = fed.root / f"{name}-approve.toml"
    path.write_text(
        f'name = "{name}"\ncoordinator = "{fed.server.address}"\n'
        f'[tls]\nca = "{certs / "ca.pem"}"\ncert = "{certs / f"{name}.pem"}"\n'
        f'key = "{certs / f"{name}.key"}"\n'
    )
    return path


def test_vfl_party_approve_declines_a_job_outside_policy(
    fed: NodeFederation, capsys: pytest.CaptureFixture[str]
) -> None:
    fed.nodes["lab"].stop()  # its operator approves by hand, with the default policy
    config = _party_toml(fed, "lab")
    refused = fed.server.lifecycle.submit(breast_job(epochs=1), "operator", is_operator=True)
    assert main(["party", "approve", refused.id, "--config", str(config), "--yes"]) == 2
    err = capsys.readouterr().err
    assert err == f"vfl: error: {_refusal(refused.id)} (declined: the job fails)\n"
    job = fed.server.store.job(refused.id)
    assert job is not None and job.state == "failed"
    assert job.error == f"party lab declined: {_refusal(refused.id)}"

    accepted = fed.server.lifecycle.submit(_paillier_job(), "operator", is_operator=True)
    assert main(["party", "approve", accepted.id, "--config", str(config), "--yes"]) == 0
    job = fed.server.store.job(accepted.id)
    assert job is not None and all(p.approved for p in job.parties)
    fed.server.lifecycle.cancel(accepted.id, "operator")


def test_a_node_never_starts_a_phase_of_a_job_outside_policy(tmp_path: Path) -> None:
    """Approved some other way (an older node, the Python API): checked again per phase."""
    spec = node_federation.breast_job(epochs=1)
    job = parse_job(tomllib.loads(spec), source="job.toml")
    config = PartyConfig(
        name="lab", coordinator="127.0.0.1:1", insecure=True, state_dir=tmp_path / "lab"
    )
    node = PartyNode(config)  # not started: the phase runs here, directly
    try:
        outcome = node._execute("job-1", "align", job.model_dump_json())
        assert outcome == ("failed", _refusal("job-1"), None)
        assert node.store.phase("job-1", "align") == ("failed", _refusal("job-1"), None)
        assert node.store.ledger("job-1") == []
    finally:
        node.store.close()


def test_vfl_party_approve_shows_the_job_and_what_leaves_then_asks(
    fed: NodeFederation, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fed.nodes["lab"].stop()
    config = _party_toml(fed, "lab")
    job = fed.server.lifecycle.submit(_paillier_job(), "operator", is_operator=True)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["n", "y"])
    monkeypatch.setattr("builtins.input", lambda _prompt: next(answers))
    approve = ["party", "approve", job.id, "--config", str(config)]
    assert main(approve) == 1
    out = capsys.readouterr().out
    assert f"job {job.id}, spec:" in out and '"protection": "paillier"' in out
    assert "policy: accepted by party.toml [policy]" in out
    assert "what will leave this silo (lab):" in out and " to hospital: " in out
    stored = fed.server.store.job(job.id)
    assert stored is not None and not any(p.name == "lab" and p.approved for p in stored.parties)
    assert main(approve) == 0
    stored = fed.server.store.job(job.id)
    assert stored is not None and any(p.name == "lab" and p.approved for p in stored.parties)
    fed.server.lifecycle.cancel(job.id, "operator")
