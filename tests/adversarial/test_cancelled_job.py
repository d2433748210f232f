"""Issue 17, probe 6d: cancelling a job logged an ERROR at its parties, as if they had
failed. Here mallory, not a member, cannot cancel an honest job (nor learn it exists);
the operator can, and neither party logs an error for it."""

from __future__ import annotations

import grpc
import pytest

from tests.adversarial.federation import (
    assert_serving,
    mallory_credentials,
    operator,
    submit_honest,
    wait_for_state,
)
from tests.e2e.deployment import finished, wait_until
from tests.integration.harness import wait_for
from vfl.cli.local_federation import LocalFederation
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc

pytestmark = pytest.mark.slow
PARTIES = ("hospital", "lab")


def test_only_the_operator_cancels_and_the_parties_log_no_error(fed: LocalFederation) -> None:
    job = submit_honest(fed, "cancel")
    wait_for_state(fed, job, ("train",))
    with grpc.secure_channel(fed.address, mallory_credentials(fed)) as channel:
        stub = pb_grpc.AdminStub(channel)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.RpcError) as err:
            stub.CancelJob(pb.JobRef(job_id=job.job_id), timeout=30)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert err.value.details() == (
        f"job {job.job_id!r} not found; `vfl job list` shows the jobs"
    )  # the same answer as for a job that does not exist
    client = operator(fed)
    try:
        client.cancel(job.job_id)
    finally:
        client.close()
    result = wait_until(fed, job.job_id, finished, 60)
    assert result["status"] == "cancelled"
    # a party whose phase was done already waits for nothing; the other one was stopped
    wait_for(lambda: any(_stopped(fed, p, job.job_id) for p in PARTIES), "a program stops", 60)
    for party in PARTIES:
        lines = (fed.root / f"{party}.log").read_text(errors="replace").splitlines()
        errors = [line for line in lines if job.job_id in line and " ERROR " in line]
        assert errors == [], party
    assert_serving(fed)


def _stopped(fed: LocalFederation, party: str, job_id: str) -> bool:
    """The party's program for the job has stopped (its log says so)."""
    text = (fed.root / f"{party}.log").read_text(errors="replace")
    return any(
        job_id in line and ("stopped" in line or "aborted" in line) for line in text.splitlines()
    )
