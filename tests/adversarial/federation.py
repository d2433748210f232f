"""The federation every probe shares, the honest job each probe runs beside its attack,
and the checks that the service kept serving.

One coordinator and the breast sample's two party nodes (hospital, the label holder, and
lab) run as `vfl` processes for the whole session, with small limits so that a probe
reaches them in seconds. Mallory holds a party certificate from the same CA but runs no
node process: it speaks gRPC from the test process (tests/adversarial/mallory.py).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.e2e.deployment import SAMPLES, assert_models_equal, finished, simulated, wait_until
from tests.integration.harness import credentials
from vfl.cli.local_federation import LocalFederation
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc
from vfl.remote import CoordinatorClient, connect

BREAST = SAMPLES / "breast" / "job.toml"
MALLORY = "mallory"
EPOCHS = 2
"""Epochs of every job the probes run: enough for a history, short enough for the budget."""

MAX_CONCURRENT_RPCS = 24
MAX_PARTY_STREAMS = 8
HELLO_TIMEOUT_S = 3
MAX_MESSAGE_BYTES = 1 << 20
TRANSFER_IDLE_S = 2
EVENT_CAP = 200
VICTIM_BUDGET_MB = 1
"""hospital's inbox_budget_mb: what a job peer may leave there that no program asked for."""

COORDINATOR_TOML = f"""[relay]
max_message_bytes = {MAX_MESSAGE_BYTES}
[limits]
max_concurrent_rpcs = {MAX_CONCURRENT_RPCS}
max_party_streams = {MAX_PARTY_STREAMS}
hello_timeout_s = {HELLO_TIMEOUT_S}
open_transfer_bytes = {MAX_MESSAGE_BYTES}
transfer_idle_s = {TRANSFER_IDLE_S}
[reports]
max_events_per_job = {EVENT_CAP}
"""


def start_federation(root: Path) -> LocalFederation:
    fed = LocalFederation(
        root,
        BREAST,
        members=(MALLORY,),
        coordinator_toml=COORDINATOR_TOML,
        # resume_window_s = 0: a failed job's journal goes at once (default: kept a day for
        # `vfl job resume`), so the flood probe can see the purge
        party_toml={"hospital": f"inbox_budget_mb = {VICTIM_BUDGET_MB}\nresume_window_s = 0"},
    )
    try:
        fed.start()
        fed.wait_connected()
    except BaseException:
        fed.stop()
        raise
    return fed


def operator(fed: LocalFederation) -> CoordinatorClient:
    return connect(fed.address, fed.root / "certs", "operator")


def mallory_credentials(fed: LocalFederation) -> grpc.ChannelCredentials:
    return credentials(fed.root / "certs", MALLORY)


def assert_serving(fed: LocalFederation) -> None:
    """The coordinator process is alive and an operator's ListJobs answers within 5 s (the
    deadline only ends a call a starved server would never answer)."""
    assert fed.processes["coordinator"].poll() is None, "the coordinator process exited"
    with grpc.secure_channel(fed.address, credentials(fed.root / "certs", "operator")) as ch:
        stub = pb_grpc.AdminStub(ch)  # type: ignore[no-untyped-call]
        jobs = stub.ListJobs(pb.ListJobsRequest(limit=5), timeout=5)
    assert isinstance(jobs, pb.ListJobsResponse)


def coordinator_log_count(fed: LocalFederation, text: str) -> int:
    return (fed.root / "coordinator.log").read_text(errors="replace").count(text)


@dataclass(frozen=True)
class Submitted:
    """A job submitted by the operator, with the spec file it was submitted from."""

    job_id: str
    spec: Path

    def wait(self, fed: LocalFederation, limit_s: float = 180) -> dict[str, Any]:
        return wait_until(fed, self.job_id, finished, limit_s)


def submit_file(fed: LocalFederation, spec: Path) -> Submitted:
    client = operator(fed)
    try:
        return Submitted(client.submit(spec.read_text()), spec)
    finally:
        client.close()


def submit_honest(fed: LocalFederation, tag: str) -> Submitted:
    """The breast sample between hospital and lab, as an honest operator runs it."""
    spec = fed.root / f"honest-{tag}.toml"
    shutil.copyfile(fed.job_spec(epochs=EPOCHS), spec)
    return submit_file(fed, spec)


def assert_no_attack_result(
    fed: LocalFederation, job: Submitted, workdir: Path, sample: Path = BREAST
) -> dict[str, Any]:
    """The job succeeded with the simulator's result for the same spec, id and secrets:
    the same validation metrics and history, and the same model at every party."""
    result = job.wait(fed)
    assert result["status"] == "succeeded", result.get("error")
    oracle = simulated(sample, workdir, fed, job.job_id, deployed_spec=job.spec, epochs=EPOCHS)
    assert result["metrics"]["validation"] == pytest.approx(
        oracle["metrics"]["validation"], rel=1e-6
    )
    assert [h["epoch"] for h in result["history"]] == list(range(EPOCHS))
    assert_models_equal(result["models"], workdir)
    return result


def wait_for_state(fed: LocalFederation, job: Submitted, states: tuple[str, ...]) -> None:
    wait_until(fed, job.job_id, lambda r: r.get("status") in states or finished(r), 120)
