"""After a real end-to-end run, nothing the coordinator stored or relayed contains a sample
ID, a raw feature value or the label column (DESIGN §7). The coordinator runs in this
process so every body it relays can be recorded; the parties are real processes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coordinator.mailbox import PutResult
from coordinator.server import CoordinatorServer
from tests.e2e.deployment import SAMPLES, finished, submit, wait_until
from vfl.cli.local_federation import LocalFederation
from vfl.config.coordinator_config import CoordinatorConfig, TlsFiles

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


def test_coordinator_never_stores_or_relays_ids_features_or_labels(tmp_path: Path) -> None:
    fed = LocalFederation(tmp_path / "fed", SAMPLES / "breast" / "job.toml")
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
        result = wait_until(fed, submit(fed, fed.job_spec(epochs=2)), finished)
    finally:
        fed.stop()
        server.stop()
    assert result["status"] == "succeeded", result.get("error")
    assert len(relayed) > 20
    stored = b"".join(p.read_bytes() for p in fed.root.glob("coordinator.db*"))
    haystacks = {"database file": stored, "relayed bodies": b"\x00".join(relayed)}
    for what, needles in _needles(SAMPLES / "breast").items():
        for where, hay in haystacks.items():
            found = [n for n in needles if n in hay]
            assert not found, f"{len(found)} {what}(s) found in the coordinator's {where}"
