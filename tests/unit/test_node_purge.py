"""An ended job's bodies leave the party even when the end outruns the last phase result.

The probe: the coordinator announced a failed job's end before it acknowledged the party's
last phase result; the node, still counting that phase as running, skipped the purge and
kept 337 MB of the job's mail. Here the end arrives while the phase thread waits for its
acknowledgement, and the journal is empty once that thread finishes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from parties.node import PartyNode
from vfl.config.party_config import PartyConfig
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import coordinator_pb2 as pb

JOB = "job-1"


def test_the_journal_is_purged_when_the_end_outruns_the_last_phase_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = PartyConfig(
        name="bank", coordinator="127.0.0.1:9", insecure=True, state_dir=tmp_path / "state"
    )
    node = PartyNode(config)  # never started: no coordinator needed
    body = Envelope(JOB, "shop", "bank", "split.Activations", "train/batch=0#0", b"x" * 100)
    node.inbox.deliver(body.to_bytes())
    assert node.store.journal_get(JOB, "shop", "train/batch=0#0") is not None

    def submit(message: pb.PartyMessage, wait: bool) -> None:
        if message.WhichOneof("kind") == "phase_done":  # the end, before the ack
            node._on_job(pb.JobUpdate(job_id=JOB, state="failed"))

    monkeypatch.setattr(node.link, "submit", submit)
    monkeypatch.setattr(node, "_execute", lambda *args: ("failed", "boom", None))
    node._run_phase_once(JOB, "train", "{}")
    deadline = time.monotonic() + 30
    while (JOB, "train") in node._running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert node.store.journal_get(JOB, "shop", "train/batch=0#0") is None
