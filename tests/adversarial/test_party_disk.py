"""Issue 17, probes 3 and 4: a party whose disk was full went into an endless reconnect
loop and the job failed at the peer's timeout, blamed on the healthy party; and a job peer
could fill a party's disk with envelopes no program asked for.

The full disk is lab's process limited to files of 0 bytes (RLIMIT_FSIZE: every write
fails as on a full disk; chmod cannot make a file read-only for root, this can). The flood
is mallory, hospital's peer in a job, sending envelopes past hospital's inbox_budget_mb."""

from __future__ import annotations

import resource
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.adversarial.federation import (
    BREAST,
    MALLORY,
    MAX_MESSAGE_BYTES,
    VICTIM_BUDGET_MB,
    assert_no_attack_result,
    assert_serving,
    coordinator_log_count,
    submit_file,
    submit_honest,
    wait_for_state,
)
from tests.adversarial.mallory import MalloryNode, deployed_spec, mallory_sample
from tests.e2e.deployment import finished, wait_until
from tests.integration.harness import wait_for
from vfl.cli.local_federation import LocalFederation
from vfl.errors import JobEndedError
from vfl.protocol.envelope import Envelope

pytestmark = pytest.mark.slow
FLOOD = 32
"""Envelopes mallory sends at most; the relay refuses them once the job has failed."""
BODY = MAX_MESSAGE_BYTES - 4096
"""Each flood envelope is as large as the relay lets through."""


@contextmanager
def _disk_full(fed: LocalFederation, party: str) -> Iterator[None]:
    """Every write of `party`'s process fails (EFBIG) until the block ends; the party is
    then restarted, so the next probe meets a node that never had a fault."""
    pid = fed.processes[party].pid
    soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        if fed.processes[party].poll() is None:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))
        fed.stop_party(party)
        fed.start_party(party)
        fed.wait_connected()


def _mid_training(result: dict[str, Any]) -> bool:
    return result.get("status") == "train" and len(result.get("history") or []) >= 1


def test_a_full_disk_fails_the_job_at_once_naming_the_party_whose_disk_it_is(
    fed: LocalFederation,
) -> None:
    job = submit_honest(fed, "disk-full")
    wait_until(fed, job.job_id, _mid_training, 120)
    sessions = coordinator_log_count(fed, "party lab connected")
    with _disk_full(fed, "lab"):
        result = job.wait(fed, limit_s=120)
        time.sleep(3)  # three heartbeats: a reconnect loop (reconnect_max_s = 1) would show
        assert coordinator_log_count(fed, "party lab connected") == sessions
        assert fed.processes["lab"].poll() is None
    assert result["status"] == "failed"
    error = result.get("error") or ""
    assert error.startswith("party lab failed train: lab cannot "), error
    assert "hospital" not in error and "within" not in error  # not the peer, not a timeout
    assert str(fed.root) not in error  # no local path leaves the party
    assert_serving(fed)


def _db_bytes(fed: LocalFederation, party: str) -> int:
    state = fed.root / party / "state"
    return sum(p.stat().st_size for p in state.glob("party.db*"))


def _journaled(fed: LocalFederation, party: str, job_id: str) -> int:
    """Deliveries of the job still in the party's inbox journal."""
    path = fed.root / party / "state" / "party.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM inbox WHERE job_id = ?", (job_id,)).fetchone()
    return int(count)


def test_a_peer_flooding_envelopes_is_stopped_at_the_receivers_budget(
    fed: LocalFederation, tmp_path: Path
) -> None:
    honest = submit_honest(fed, "flood")
    sample = mallory_sample(tmp_path, "lab")
    with MalloryNode(fed, BREAST.parent / "lab.csv") as mallory:
        job = submit_file(fed, deployed_spec(sample, fed.root / "mallory-flood.toml"))
        wait_for_state(fed, job, ("align",))
        before = _db_bytes(fed, "hospital")
        refusal, sent = "", 0
        while not refusal and sent < FLOOD:  # sequence numbers no program of hospital takes
            body = b"x" * BODY
            flood = Envelope(
                job.job_id, MALLORY, "hospital", "split.Activations", f"x#{sent}", body
            )
            try:
                mallory.node.link.send_envelope(flood.to_bytes())
                sent += 1
            except JobEndedError as exc:  # the job is over: mallory is told to stop
                refusal = str(exc)
        result = wait_until(fed, job.job_id, finished, 60)
        grown = _db_bytes(fed, "hospital") - before
    assert result["status"] == "failed"
    error = result.get("error") or ""
    assert error.startswith("party hospital failed align: "), error
    assert f"{MALLORY} sent more than {VICTIM_BUDGET_MB} MiB" in error
    assert refusal == (
        f"coordinator refused an envelope: job {job.job_id} is failed; nothing to relay"
    )  # once hospital stopped the job, the relay takes nothing more for it
    # within the budget (plus the delivery that found it full), each byte written twice
    # (the WAL, then the database); a journal without the budget grows by every delivery
    assert grown < 2 * ((VICTIM_BUDGET_MB << 20) + BODY)
    wait_for(lambda: _journaled(fed, "hospital", job.job_id) == 0, "the ended job is purged")
    assert_no_attack_result(fed, honest, tmp_path / "oracle")
    assert_serving(fed)
