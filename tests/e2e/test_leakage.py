"""After a real end-to-end run, nothing the coordinator stored or relayed contains a sample
ID, a raw feature value or the label column (DESIGN §7). The coordinator runs in this
process so every body it relays can be recorded; the parties are real processes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from coordinator.mailbox import PutResult
from coordinator.server import CoordinatorServer
from parties.data import load_dataset
from tests.e2e.deployment import SAMPLES, finished, submit, wait_until
from vfl.algorithms.split.models import build_bottom
from vfl.algorithms.split.preprocess import Standardizer
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.cli.local_federation import LocalFederation
from vfl.config.coordinator_config import CoordinatorConfig, TlsFiles
from vfl.config.job_spec import vertical
from vfl.config.loading import load_job
from vfl.runtime.workspace import Workspace

pytestmark = pytest.mark.slow


def _needles(sample: Path) -> dict[str, list[bytes]]:
    hospital = pd.read_csv(sample / "hospital.csv", dtype={"patient_id": str})
    lab = pd.read_csv(sample / "lab.csv", dtype={"patient_id": str})
    ids = [i.encode() for i in hospital["patient_id"]] + [i.encode() for i in lab["patient_id"]]
    features: list[bytes] = []
    for frame in (
        hospital.drop(columns=["patient_id", "diagnosis"]),
        lab.drop(columns=["patient_id"]),
    ):
        values = frame.to_numpy()
        for row in values:  # a row as a party would serialise it: float32 / float64 pairs
            features.append(row[:2].astype(np.float32).tobytes())
            features.append(row[:1].astype(np.float64).tobytes())
        features += [
            ",".join(str(v) for v in row[:3]).encode() for row in frame.astype(str).to_numpy()[:50]
        ]
    labels = hospital["diagnosis"].to_numpy()
    label_runs = [
        labels[i : i + 24].astype(dt).tobytes()
        for dt in (np.float32, np.float64, np.int64, np.uint8)
        for i in range(0, len(labels) - 24, 24)
    ]
    return {"ID": ids, "feature value": features, "label column": label_runs}


def _relayed_run(
    tmp_path: Path, sample: Path, seal: bool = True, **train: object
) -> tuple[dict[str, object], list[bytes], LocalFederation]:
    """Run `sample` with an in-process coordinator that records every body it relays."""
    fed = LocalFederation(tmp_path / "fed", sample, seal=seal)
    certs = fed.root / "certs"
    config = CoordinatorConfig(
        listen="127.0.0.1:0",
        database=f"sqlite:///{fed.root / 'coordinator.db'}",
        tls=TlsFiles(
            ca=certs / "ca.pem", cert=certs / "coordinator.pem", key=certs / "coordinator.key"
        ),
    )
    server = CoordinatorServer(config)
    relayed: list[bytes] = []
    put = server.mailbox.put

    def recording_put(
        job_id: str, src: str, dst: str, kind: str, seq: str, data: bytes
    ) -> PutResult:
        relayed.append(data)
        return put(job_id, src, dst, kind, seq, data)

    server.mailbox.put = recording_put  # type: ignore[method-assign]
    server.start()
    fed.address = server.address
    try:
        for party in fed.parties:
            fed.start_party(party)
        fed.wait_connected()
        result = wait_until(fed, submit(fed, fed.job_spec(**train)), finished)
    finally:
        fed.stop()
        server.stop()
    assert result["status"] == "succeeded", result.get("error")
    return result, relayed, fed


def _activation_rows(fed: LocalFederation, sample: Path, job_id: str) -> list[bytes]:
    """The lab's cut-layer activations of the evaluate phase, row by row as float32 bytes:
    its published bottom model and scaler applied to its rows in the aligned order, batch
    by batch as `serve_forward` sends them."""
    spec = vertical(load_job(sample))
    lab = next(p for p in spec.parties if p.name == "lab")
    workspace = Workspace(fed.root / "lab" / "state" / "jobs" / job_id)
    data = load_dataset(spec, lab).aligned(workspace.load_alignment())
    state, _ = workspace.load_model()
    bottom, _ = build_bottom(spec, data.width, torch.Generator())
    bottom.load_state_dict(state["bottom"])
    x = Standardizer.from_state(state["scaler"]).apply(data.features)
    t = spec.train
    schedule = BatchSchedule(data.rows, t.batch_size, t.validation_fraction, spec.job.seed)
    rows: list[bytes] = []
    with torch.no_grad():
        for split in (schedule.train_rows, schedule.valid_rows):
            for batch in BatchSchedule.eval_batches(split):
                rows += [r.tobytes() for r in bottom(x[batch]).numpy().astype(np.float32)]
    return rows


def test_the_scan_finds_activations_relayed_unsealed_under_protection_none(
    tmp_path: Path,
) -> None:
    """The control: with sealing off and `protection = "none"` the lab's activations
    cross the relay in the clear, and the scan below finds them, so it can fail."""
    sample = SAMPLES / "breast" / "job.toml"
    result, relayed, fed = _relayed_run(tmp_path, sample, seal=False, epochs=1)
    needles = _activation_rows(fed, sample, str(result["job_id"]))
    hay = b"\x00".join(relayed)
    found = sum(n in hay for n in needles)
    assert found > len(needles) // 2, f"{found} of {len(needles)} activation rows found"


def test_a_sealed_paillier_job_relays_no_activation_ids_features_or_labels(
    tmp_path: Path,
) -> None:
    sample = SAMPLES / "breast_paillier" / "job.toml"
    result, relayed, fed = _relayed_run(tmp_path, sample, epochs=1)
    needles = _needles(SAMPLES / "breast_paillier")
    needles["activation row"] = _activation_rows(fed, sample, str(result["job_id"]))
    hay = b"\x00".join(relayed)
    for what, found_in in needles.items():
        found = [n for n in found_in if n in hay]
        assert not found, f"{len(found)} {what}(s) found in the relayed bodies"


def test_coordinator_never_stores_or_relays_ids_features_or_labels(tmp_path: Path) -> None:
    _, relayed, fed = _relayed_run(tmp_path, SAMPLES / "breast" / "job.toml", epochs=2)
    assert len(relayed) > 20
    stored = b"".join(p.read_bytes() for p in fed.root.glob("coordinator.db*"))
    haystacks = {"database file": stored, "relayed bodies": b"\x00".join(relayed)}
    for what, needles in _needles(SAMPLES / "breast").items():
        for where, hay in haystacks.items():
            found = [n for n in needles if n in hay]
            assert not found, f"{len(found)} {what}(s) found in the coordinator's {where}"
