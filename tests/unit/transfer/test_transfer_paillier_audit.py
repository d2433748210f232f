"""`vfl audit` covers paillier transfer jobs: the label-inference attacks find no per-row
gradient at the target (it decrypts none), where the plain job hands it one per row."""

from __future__ import annotations

from pathlib import Path

from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from vfl.api import audit


def test_audit_of_a_paillier_transfer_job_finds_no_per_row_gradient_at_the_target(
    tmp_path: Path,
) -> None:
    paths = synthetic_transfer(tmp_path, rows=200, shared=0.5)  # 100 shared, 80 to train
    findings = {}
    for protection in ("none", "paillier"):
        spec = transfer_spec(
            transfer_dict(
                paths,
                model={"hidden": []},
                train={"protection": protection, "epochs": 1, "batch_size": 80, "loss": "taylor"},
            )
        )
        result = audit(spec, workdir=tmp_path / protection)
        assert result.status == "succeeded", result.error
        findings[protection] = [f for f in result.privacy.attacks if f.attacker == "target"]
    assert findings["none"], "the plain target's per-row gradients are attacked"
    assert findings["paillier"] == []
