"""align.protocol = "rr22" deployed: party nodes as real processes behind a coordinator over
gRPC with mutual TLS, each node starting spu's child process in its job workspace. Every
party must end with the plaintext intersection of the sample's CSVs, the job must train
to success, and no file of the child (inputs, outputs, spu's temp and trace files) may be
left in any workspace."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.deployment import (
    SLOW_START_S,
    aligned_ids,
    aligned_with,
    finished,
    plaintext_intersection,
    submit,
    wait_until,
)
from tests.unit.psi.harness import needs_fastpsi
from vfl.cli.local_federation import LocalFederation

pytestmark = [pytest.mark.slow, needs_fastpsi]
EPOCHS = 2


@pytest.mark.timeout(900)
@pytest.mark.parametrize("sample", ["breast", "breast_three_party"])
def test_rr22_deployed_aligns_every_party_on_the_plaintext_intersection(
    sample: str, tmp_path: Path
) -> None:
    job = aligned_with("rr22", sample, tmp_path / "sample")
    fed = LocalFederation(tmp_path / "fed", job)
    try:
        started = time.perf_counter()
        fed.start()
        fed.wait_connected(limit_s=SLOW_START_S)
        job_id = submit(fed, fed.job_spec(epochs=EPOCHS))
        result = wait_until(fed, job_id, finished, limit_s=480)
        print(f"e2e rr22 {sample} wall time: {time.perf_counter() - started:.1f} s")
    finally:
        fed.stop()
    assert result["status"] == "succeeded", result.get("error")
    expected = plaintext_intersection(job)
    assert expected  # the samples share rows: an empty oracle would check nothing
    assert aligned_ids(fed, job_id) == {p: expected for p in fed.parties}
    assert result["align"]["protocol"] == "rr22"
    assert result["align"]["intersection_size"] == len(expected)
    assert [h["epoch"] for h in result["history"]] == list(range(EPOCHS))
    for party in fed.parties:
        workspace = fed.root / party / "state"
        left = sorted(p.name for p in workspace.rglob("*") if "rr22" in p.name)
        assert left == [], party
