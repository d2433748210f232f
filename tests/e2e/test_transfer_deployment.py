"""The transfer sample over real processes: a coordinator and two party nodes on
127.0.0.1 with mTLS and sealed envelopes, driven through the `vfl` CLI. The result equals
the simulator's for the same job and party secrets, and the predictions exist at the
target and nowhere else: not at the source, not in the coordinator's database."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.deployment import SAMPLES, assert_models_equal, simulated, vfl
from vfl.cli.local_federation import LocalFederation

pytestmark = pytest.mark.slow

SAMPLE = SAMPLES / "transfer" / "job.toml"
PAILLIER = SAMPLES / "transfer" / "job_paillier.toml"
"""The same parties under Paillier: each node makes its own 2048-bit key; the result still
equals the simulator's, whose keys differ (fixed-point sums are exact under any key)."""


def _others() -> list[str]:
    """The clinic's patients the hospital does not hold."""
    clinic = pd.read_csv(SAMPLE.parent / "clinic.csv", dtype={"patient_id": str})
    hospital = pd.read_csv(SAMPLE.parent / "hospital.csv", dtype={"patient_id": str})
    return sorted(set(clinic["patient_id"]) - set(hospital["patient_id"]))


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("sample", [SAMPLE, PAILLIER], ids=["plain", "paillier"])
def test_transfer_job_over_processes_matches_the_simulator_and_predicts_at_the_target_only(
    tmp_path: Path, sample: Path
) -> None:
    fed = LocalFederation(tmp_path / "fed", sample)
    try:
        fed.start()
        fed.wait_connected()
        spec = fed.job_spec(epochs=3)
        out = tmp_path / "result.json"
        proc = vfl("job", "submit", str(spec), "--wait", "--json", str(out), *fed.cli_args())
    finally:
        fed.stop()
    assert proc.returncode == 0, proc.stderr + proc.stdout
    deployed = json.loads(out.read_text())
    assert deployed["status"] == "succeeded", deployed.get("error")
    oracle = simulated(sample, tmp_path / "sim", fed, deployed["job_id"], epochs=3)
    for split, values in oracle["metrics"].items():
        assert deployed["metrics"][split] == pytest.approx(values, rel=1e-6, abs=1e-9), split
    assert deployed["align"] == oracle["align"]
    assert_models_equal(deployed["models"], tmp_path / "sim")

    path = Path(deployed["outputs"]["clinic"]["predictions"])
    assert path.is_relative_to((fed.root / "clinic").resolve()) and path.exists()
    assert list(deployed["outputs"]) == ["clinic"]
    scored = pd.read_csv(path, dtype={"patient_id": str})
    others = _others()
    assert sorted(scored["patient_id"]) == others
    simulated_scores = pd.read_csv(oracle["outputs"]["clinic"]["predictions"])
    assert scored["score"].to_numpy() == pytest.approx(
        simulated_scores["score"].to_numpy(), abs=1e-6
    )

    # nowhere else: the source's node folder and the coordinator's files hold none of
    # those IDs and no predictions file (the clinic's own folder does: the scan works)
    coordinator = [
        p for p in _files(fed.root) if p.relative_to(fed.root).parts[0].startswith("coordinator")
    ]
    elsewhere = _files(fed.root / "hospital") + coordinator
    assert [p for p in elsewhere if p.name.startswith("coordinator.db")]
    assert not [p for p in elsewhere if p.name.startswith("predictions")]
    for file in elsewhere:
        content = file.read_bytes()
        assert not [i for i in others if i.encode() in content], file
    clinic_bytes = b"".join(p.read_bytes() for p in _files(fed.root / "clinic"))
    assert all(i.encode() in clinic_bytes for i in others)
