"""An ended job's bodies leave the party even when the end outruns the last phase result.

The probe: the coordinator announced a failed job's end before it acknowledged the party's
last phase result; the node, still counting that phase as running, skipped the purge and
kept 337 MB of the job's mail. Here the end arrives while the phase thread waits for its
acknowledgement, and the journal is empty once that thread finishes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from parties.node import PartyNode
from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.config.party_config import PartyConfig
from vfl.config.party_policy import PartyPolicy
from vfl.errors import ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import coordinator_pb2 as pb

JOB = "job-1"


def _node(tmp_path: Path) -> PartyNode:
    """A node that is never started: no coordinator needed; policy admits plain jobs."""
    config = PartyConfig(
        name="bank",
        coordinator="127.0.0.1:9",
        insecure=True,
        state_dir=tmp_path / "state",
        policy=PartyPolicy(protections=("paillier", "none"), align_protocols=("ecdh", "join")),
    )
    return PartyNode(config)


def test_the_journal_is_purged_when_the_end_outruns_the_last_phase_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = _node(tmp_path)
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


def test_a_program_that_breaks_because_its_job_ended_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The probe: cancelling a job logged an ERROR at the parties. A program whose send is
    refused because the job was cancelled meanwhile stops quietly; the same failure in a
    live job is still an error, reported as the phase's failure (the control)."""
    node = _node(tmp_path)

    class Refused:
        def run(self, ctx: object) -> None:
            raise ProtocolError("job job-1 is cancelled; the relay refused the envelope")

    monkeypatch.setattr("parties.node.program_for", lambda *args: Refused())
    monkeypatch.setattr("parties.node.load_for_job", lambda *args: None)
    spec = job_spec(job_dict(synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=20)))
    live = node._execute(JOB, "train", spec.model_dump_json())
    assert live is not None and live[0] == "failed"  # a live job: the failure is reported
    node._on_job(pb.JobUpdate(job_id=JOB, state="cancelled"))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="parties.node"):
        assert node._execute(JOB, "train", spec.model_dump_json()) is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
