"""A seeded coordinator store and party node for the dashboard's tests and benchmark.

Written through the coordinator's own `SqlStore` and the node's own `NodeStore` and
`Workspace`, so the dashboards read exactly what the services write. Every secret the
seed plants (raw IDs, feature values, labels, a sealing key, envelope ciphertext, model
weights) is listed in `RAW`, for the test that scans every rendered page for them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from coordinator.database import Database
from coordinator.mailbox import Mailbox, MailboxLimits
from coordinator.sql_store import SqlStore
from coordinator.store import DatasetInfo, Job, JobParty
from coordinator.tables import JobPartyRow, JobRow
from vfl.config.phase_plan import JobState
from vfl.protocol import reports
from vfl.runtime.events import (
    AlignReport,
    CurvesReport,
    EpochReport,
    Event,
    MetricsReport,
    PrivacyReport,
    Progress,
    StepReport,
)
from vfl.runtime.ledger import LedgerEntry
from vfl.runtime.node_store import NodeStore
from vfl.runtime.workspace import Workspace

RAW_IDS = ("patient-7f3a9c01", "patient-7f3a9c02", "patient-7f3a9c03")
"""Sample IDs the seed plants in the party's data, alignment and inbox journal."""
RAW_FEATURE = "93.171717"
"""A feature value in the party's data file."""
SEALING_KEY = b"SEALKEY-3b1f9e77d2c4"
ENVELOPE_BODY = b"CIPHERTEXT-a94c0e51b7d3"
JOURNAL_BODY = b"JOURNAL-5e8d21c04f6a"
MODEL_SECRET = "0.7316493"
"""A label statistic written into model.json (target_mean): never shown."""
RAW = (*RAW_IDS, RAW_FEATURE, "3b1f9e77d2c4", "a94c0e51b7d3", "5e8d21c04f6a", MODEL_SECRET)

SPEC: dict[str, Any] = {
    "job": {"name": "breast-vertical", "mode": "vertical", "seed": 7},
    "parties": [
        {
            "name": "hospital",
            "role": "label_holder",
            "data": "data",
            "id_column": "patient_id",
            "label_column": "diagnosis",
        },
        {"name": "lab", "role": "feature_holder", "data": "data", "id_column": "patient_id"},
    ],
    "align": {"protocol": "ecdh"},
    "model": {
        "kind": "split_nn",
        "task": "binary",
        "bottom_hidden": [8],
        "cut_width": 4,
        "top_hidden": [4],
    },
    "train": {"protection": "paillier", "epochs": 3, "batch_size": 32},
}
HORIZONTAL_SPEC: dict[str, Any] = {
    "job": {"name": "breast-horizontal", "mode": "horizontal", "seed": 3},
    "parties": [
        {
            "name": "clinic-a",
            "role": "sample_holder",
            "data": "data",
            "id_column": "patient_id",
            "label_column": "diagnosis",
        },
        {
            "name": "clinic-b",
            "role": "sample_holder",
            "data": "data",
            "id_column": "patient_id",
            "label_column": "diagnosis",
        },
    ],
    "train": {"rounds": 4},
}


@dataclass
class Seeded:
    url: str
    succeeded: str = "breast-vertical-0000aaaa"
    failed: str = "breast-vertical-0000bbbb"
    pending: str = "breast-vertical-0000cccc"
    horizontal: str = "breast-horizontal-0000dddd"
    jobs: list[str] = field(default_factory=list)


def _job(job_id: str, spec: dict[str, Any]) -> Job:
    parties = spec["parties"]
    return Job(
        job_id,
        str(job_id.rsplit("-", 1)[0]),
        str(spec["job"]["mode"]),
        json.dumps(spec),
        "operator",
        JobState.PENDING,
        None,
        0.0,
        tuple(JobParty(p["name"], p["role"], False, 0, 0, None) for p in parties),
    )


def _event(store: SqlStore, job_id: str, party: str, event: Event) -> None:
    store.put_event(job_id, party, reports.dedupe_key(party, event), reports.to_json(event))


CURVES = CurvesReport(
    "validation",
    depth=(0.0, 0.25, 0.5, 0.75, 1.0),
    fpr=(0.0, 0.0625, 0.1875, 0.5, 1.0),
    tpr=(0.0, 0.5625, 0.8125, 0.9375, 1.0),
)
"""The ROC/KS points of the succeeded job's validation split (KS 0.625 at depth 0.5)."""


def seed_coordinator(url: str) -> Seeded:
    """Parties, datasets and four jobs (succeeded, failed, pending, horizontal running)."""
    db = Database(url)
    db.migrate()
    store = SqlStore(db)
    seeded = Seeded(url)
    store.register_party(
        "hospital",
        [DatasetInfo("data", ("patient_id", "diagnosis", "age"), 569)],
        sealing_key=SEALING_KEY,
    )
    store.register_party("lab", [DatasetInfo("data", ("patient_id", "radius", "texture"), 569)])
    store.register_party("clinic-a", [DatasetInfo("data", ("patient_id", "diagnosis"), 280)])
    store.register_party("clinic-b", [DatasetInfo("data", ("patient_id", "diagnosis"), 289)])

    ok = seeded.succeeded
    store.create_job(_job(ok, SPEC))
    for party in ("hospital", "lab"):
        store.approve(ok, party)
        store.log(ok, "coordinator", f"approved by {party}")
    for i, phase in enumerate(("align", "train", "evaluate")):
        store.start_phase(ok, phase)
        for party, step in (("hospital", 41_000), ("lab", 97_000)):
            sent = step * (i + 1)  # job totals when the phase ended: each phase adds `step`
            store.record_phase_run(ok, phase, party, True, None, sent, sent // 2, "/m/" + party)
            store.log(ok, party, f"{phase} finished")
        store.finish_phase(ok, phase)
    for party in ("hospital", "lab"):
        _event(store, ok, party, AlignReport(569, 512, "ecdh"))
    for epoch in range(3):
        values = {"train_loss": 0.6 / (epoch + 1), "validation_auc": 0.9 + epoch / 100}
        _event(store, ok, "hospital", EpochReport(epoch, values))
        for batch in range(4):
            _event(store, ok, "hospital", StepReport(epoch, batch, 0.7 / (epoch + batch + 1)))
        _event(store, ok, "hospital", Progress("train", epoch + 1, 3))
    _event(store, ok, "hospital", MetricsReport("validation", {"auc": 0.97, "ks": 0.88}))
    _event(store, ok, "hospital", CURVES)
    _event(store, ok, "hospital", PrivacyReport(1.0, 1e-5, 1.0, 1.1, 3, {"lab": 0.93}))
    store.set_state(ok, JobState.SUCCEEDED)
    store.log(ok, "coordinator", "succeeded")

    bad = seeded.failed
    store.create_job(_job(bad, SPEC))
    for party in ("hospital", "lab"):
        store.approve(bad, party)
    store.start_phase(bad, "align")
    store.record_phase_run(bad, "align", "hospital", True, None, 10, 10, None)
    store.record_phase_run(bad, "align", "lab", True, None, 10, 10, None)
    store.finish_phase(bad, "align")
    store.start_phase(bad, "train")
    error = "Paillier key of 1024 bits is below min_key_bits = 2048"
    store.record_phase_run(bad, "train", "lab", False, error, 20, 20, None)
    store.log(bad, "lab", f"train failed: {error}")
    store.set_state(bad, JobState.FAILED, f"party lab: {error}")

    store.create_job(_job(seeded.pending, SPEC))
    store.approve(seeded.pending, "hospital")
    store.log(seeded.pending, "coordinator", "approved by hospital")

    h = seeded.horizontal
    store.create_job(_job(h, HORIZONTAL_SPEC))
    for party in ("clinic-a", "clinic-b"):
        store.approve(h, party)
    store.start_phase(h, "train")
    store.set_state(h, JobState.TRAIN)
    for rnd in range(2):
        _event(store, h, "coordinator", EpochReport(rnd, {"loss": 0.5 - rnd / 10, "accuracy": 0.8}))
    _event(store, h, "coordinator", Progress("train", 2, 4))
    store.log(h, "clinic-a", "round 1 sent")

    Mailbox(db, MailboxLimits(max_messages=10, max_bytes=1 << 20)).put(
        h, "clinic-a", "coordinator", "horizontal.Update", "train/round=1#0", ENVELOPE_BODY
    )
    seeded.jobs = [ok, bad, seeded.pending, h]
    db.close()
    return seeded


def seed_many_jobs(url: str, count: int) -> None:
    """`count` more succeeded jobs, inserted in bulk (the benchmark's 10,000)."""
    db = Database(url)
    db.migrate()
    now = time.time()
    spec = json.dumps(SPEC)
    with db.engine.begin() as conn:
        for start in range(0, count, 1000):
            batch = range(start, min(count, start + 1000))
            conn.execute(
                sa.insert(JobRow),
                [
                    {
                        "id": f"bulk-{i:06d}",
                        "name": "bulk",
                        "mode": "vertical",
                        "spec_json": spec,
                        "submitted_by": "operator",
                        "state": JobState.SUCCEEDED,
                        "error": None,
                        "created_at": now - count + i,
                        "updated_at": now - count + i + 30,
                    }
                    for i in batch
                ],
            )
            conn.execute(
                sa.insert(JobPartyRow),
                [
                    {
                        "job_id": f"bulk-{i:06d}",
                        "party": p,
                        "role": r,
                        "approved": True,
                        "bytes_sent": 1000,
                        "bytes_received": 1000,
                        "model_path": None,
                    }
                    for i in batch
                    for p, r in (("hospital", "label_holder"), ("lab", "feature_holder"))
                ],
            )
    db.close()


@dataclass
class SeededNode:
    config: Path
    state_dir: Path
    job_id: str = "breast-vertical-0000aaaa"


def seed_party(root: Path, coordinator: str = "127.0.0.1:1") -> SeededNode:
    """A party node's folder: party.toml, its data, its SQLite ledger and a model."""
    root.mkdir(parents=True, exist_ok=True)
    data = root / "hospital.csv"
    rows = [f"{rid},{RAW_FEATURE},1" for rid in RAW_IDS]
    data.write_text("patient_id,radius,diagnosis\n" + "\n".join(rows) + "\n")
    (root / "party.toml").write_text(
        f'name = "hospital"\ncoordinator = "{coordinator}"\ninsecure = true\n'
        '[[datasets]]\nname = "data"\nsource = "hospital.csv"\n'
        '[policy]\nprotections = ["paillier"]\n'
    )
    state = root / "state"
    node = NodeStore(state / "party.db")
    seeded = SeededNode(root / "party.toml", state)
    job = seeded.job_id
    for seq in range(3):
        for kind, size in (("ecdh.Blinded", 32_000), ("split_paillier.EncryptedActivations", 9000)):
            node.record(
                LedgerEntry(
                    job,
                    "sent",
                    "lab",
                    kind,
                    f"s#{kind}{seq}",
                    size,
                    "paillier",
                    "x25519-chacha20poly1305",
                )
            )
    # a replay after a restart: same seq, counted once
    node.record(
        LedgerEntry(
            job,
            "sent",
            "lab",
            "ecdh.Blinded",
            "s#ecdh.Blinded0",
            32_000,
            "paillier",
            "x25519-chacha20poly1305",
        )
    )
    node.record(LedgerEntry(job, "received", "lab", "split.CutGradient", "r#0", 500, "paillier"))
    node.record(LedgerEntry("older-job-0001", "sent", "lab", "psi.AlignCheck", "a#0", 64, "none"))
    node.journal_put(job, "lab", "r#0", JOURNAL_BODY)
    node.set_phase(job, "train", "succeeded", None, str(state / "jobs" / job / "model"))
    node.close()
    ws = Workspace(state / "jobs" / job)
    ws.save_alignment(list(RAW_IDS))
    ws.save_model_arrays(
        {"w": np.array([float(MODEL_SECRET)])},
        {
            "role": "label_holder",
            "kind": "split_nn",
            "task": "binary",
            "feature_names": ["radius"],
            "target_mean": float(MODEL_SECRET),
        },
    )
    return seeded
