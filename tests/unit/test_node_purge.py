"""An ended job's bodies leave the party on time, even when the end outruns the last phase
result, and a failed job's journal stays exactly as long as it may be resumed.

The probe: the coordinator announced a failed job's end before it acknowledged the party's
last phase result; the node, still counting that phase as running, skipped the purge and
kept 337 MB of the job's mail. Here the end arrives while the phase thread waits for its
acknowledgement, and the journal is empty once that thread finishes (resume window 0).
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
from vfl.errors import JobAbortedError, PeerUnavailableError, ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import coordinator_pb2 as pb

JOB = "job-1"


def _node(tmp_path: Path, resume_window_s: float = 0.0) -> PartyNode:
    """A node that is never started: no coordinator needed; policy admits plain jobs."""
    config = PartyConfig(
        name="bank",
        coordinator="127.0.0.1:9",
        insecure=True,
        state_dir=tmp_path / "state",
        policy=PartyPolicy(protections=("paillier", "none"), align_protocols=("ecdh", "join")),
        resume_window_s=resume_window_s,
    )
    return PartyNode(config)


def _deliver(node: PartyNode, seq: str) -> None:
    body = Envelope(JOB, "shop", "bank", "split.Activations", seq, b"x" * 100)
    node.inbox.deliver(body.to_bytes())


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


def test_a_failed_jobs_journal_is_kept_for_its_resume_window_then_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept through a restart of the node (the clock is in its store), purged by the sweep
    once the window has passed; a cancelled job is purged at once (the control)."""
    node = _node(tmp_path, resume_window_s=3600)
    _deliver(node, "train/batch=0#0")
    node._on_job(pb.JobUpdate(job_id=JOB, state="failed"))
    assert node.store.journal_get(JOB, "shop", "train/batch=0#0") is not None
    node.store.close()

    node = _node(tmp_path, resume_window_s=3600)  # restarted: the end is remembered
    node.sweep()
    assert node.store.journal_get(JOB, "shop", "train/batch=0#0") is not None
    later = time.time() + 3601
    monkeypatch.setattr("parties.node.time.time", lambda: later)
    node.sweep()
    assert node.store.journal_get(JOB, "shop", "train/batch=0#0") is None
    assert node.store.ended() == {}  # purged: nothing left to sweep after a restart

    other = "job-2"
    node.inbox.deliver(Envelope(other, "shop", "bank", "k", "s#0", b"y").to_bytes())
    node._on_job(pb.JobUpdate(job_id=other, state="cancelled"))
    assert node.store.journal_get(other, "shop", "s#0") is None


def test_a_resumed_job_hands_its_programs_the_mail_journaled_before_the_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While failed, a program waiting for mail is stopped; once the coordinator says the
    job is live again, the restarted program takes again what it had taken before the
    failure (from the journal), and waits normally for what has not arrived."""
    node = _node(tmp_path, resume_window_s=3600)
    monkeypatch.setattr(node, "_run_phase_once", lambda *args: None)
    _deliver(node, "train/batch=0#0")
    assert node.inbox.take(JOB, "shop", "train/batch=0#0", timeout=1).body == b"x" * 100
    node._on_job(pb.JobUpdate(job_id=JOB, state="failed"))
    with pytest.raises(JobAbortedError):
        node.inbox.take(JOB, "shop", "train/batch=1#0", timeout=5)
    node._on_job(pb.JobUpdate(job_id=JOB, state="train"))  # resumed
    assert node.inbox.take(JOB, "shop", "train/batch=0#0", timeout=1).body == b"x" * 100
    with pytest.raises(PeerUnavailableError):  # not aborted any more: it waits, then times out
        node.inbox.take(JOB, "shop", "train/batch=1#0", timeout=0.2)
    assert node.store.ended() == {}  # live again: no sweep may purge it
