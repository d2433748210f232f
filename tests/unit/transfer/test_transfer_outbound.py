"""The party dashboard's "what will leave this silo" for a transfer job is what does leave:
every kind each party sends in a simulated job (both protections) is on its approval
page, and every kind the page lists for train and predict is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.queries import outbound
from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from tests.unit.transfer.small_keys import run_transfer


def _listed(spec: object, party: str) -> set[str]:
    return {kind for o in outbound(spec, party) for kind in o.kind.split(" / ")}  # type: ignore[arg-type]


@pytest.mark.parametrize("protection", ["none", "paillier"])
def test_outbound_lists_exactly_what_each_transfer_party_sends(
    tmp_path: Path, protection: str
) -> None:
    paths = synthetic_transfer(tmp_path, rows=200, shared=0.4)
    train: dict[str, object] = {"protection": protection, "epochs": 1, "batch_size": 48}
    spec = transfer_spec(transfer_dict(paths, model={"hidden": []}, train=train))
    _, hub = run_transfer(spec, tmp_path / "run")
    for party in ("source", "target"):
        sent = {e.kind for e in hub.envelopes if e.src == party}
        listed = _listed(spec, party)
        assert sent <= listed, f"{party} sent kinds its approval page omits: {sent - listed}"
        unsent = {k for k in listed if k.startswith("transfer")} - sent
        assert not unsent, f"{party}: listed but never sent: {unsent}"
