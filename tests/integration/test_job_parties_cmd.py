"""`vfl job parties` lists the registered parties and their datasets from a real
coordinator on 127.0.0.1 (before it, only the RPC could)."""

from __future__ import annotations

from pathlib import Path

import pytest

from parties.coordinator_link import CoordinatorLink
from tests.integration.harness import start_coordinator, wait_for
from vfl.cli.main import main
from vfl.protocol.v1 import coordinator_pb2 as pb


def test_job_parties_lists_each_party_and_its_datasets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_coordinator(tmp_path)
    dataset = pb.Dataset(name="breast", columns=["patient_id", "radius"], rows=569)
    link = CoordinatorLink(
        server.address, "hospital", None, [dataset], lambda _: None, lambda _: None
    )
    try:
        link.start()
        wait_for(link.connected.is_set, "hospital connects")
        code = main(["job", "parties", "--coordinator", server.address, "--insecure"])
    finally:
        link.stop()
        server.stop()
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].split() == ["hospital", "connected"]
    assert lines[1].split() == ["breast", "569", "rows", "patient_id,", "radius"]
