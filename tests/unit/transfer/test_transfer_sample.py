"""The transfer sample end to end in the simulator: a sensible AUC on the target's other
rows beside the target-only baseline, and predictions at the target and nowhere else."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd

from vfl.algorithms.transfer.messages import Representations
from vfl.api import audit, simulate
from vfl.runtime.transcript import Transcript

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "transfer"


def _compare() -> ModuleType:
    spec = importlib.util.spec_from_file_location("transfer_compare", SAMPLE / "compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_scores_the_targets_other_rows_as_well_as_a_target_only_model(
    tmp_path: Path,
) -> None:
    # fixed party secrets and job id (the samples' convention): the same initial weights
    # every run; `vfl audit` so the transfer findings are checked on the way
    secrets = {n: hashlib.sha256(n.encode()).digest() for n in ("hospital", "clinic")}
    result = audit(SAMPLE / "job.toml", workdir=tmp_path, party_secrets=secrets, job_id="transfer")
    assert result.status == "succeeded", result.error
    found = {(f.attacker, f.target, f.attack): f.value for f in result.privacy.attacks}
    assert found[("clinic", "hospital", "cosine_label_inference")] > 0.9  # plaintext leaks
    assert ("clinic", "hospital", "norm_label_inference") in found
    assert all(f"{p}_s" in result.timings for p in ("align", "train", "evaluate", "predict"))
    assert result.metrics["validation"]["auc"] > 0.9
    # 136 shared patients leave ~27 for validation: too few of a class for ROC/KS points
    assert result.curves == {}
    assert result.align["party_rows"] == {"hospital": 340, "clinic": 400}  # padded: 365

    predictions = Path(result.outputs["clinic"]["predictions"])
    assert predictions.parent == (tmp_path / "clinic" / "outputs").resolve()
    clinic = pd.read_csv(SAMPLE / "clinic.csv", dtype={"patient_id": str})
    hospital = pd.read_csv(SAMPLE / "hospital.csv", dtype={"patient_id": str})
    others = set(clinic["patient_id"]) - set(hospital["patient_id"])
    scored = pd.read_csv(predictions, dtype={"patient_id": str})
    assert set(scored["patient_id"]) == others and len(scored) == len(others) == 229
    assert set(scored.columns) == {"patient_id", "score", "class"}

    compare = _compare()
    ftl, baseline = compare.ftl_auc(predictions), compare.baseline_auc()
    assert ftl > 0.9 and ftl > baseline - 0.05, (ftl, baseline)


def test_nothing_about_the_targets_other_rows_reaches_the_source(tmp_path: Path) -> None:
    transcript = Transcript()
    result = simulate(SAMPLE / "job.toml", workdir=tmp_path, transcript=transcript)
    assert result.status == "succeeded", result.error
    received = transcript.received("hospital")
    assert not [r for r in received if r.scope.startswith("predict")]  # predict: nothing back
    shared = result.align["intersection_size"]
    evaluated = sum(
        len(msg.values)
        for entry, msg in transcript.messages("hospital", Representations)
        if entry.scope.startswith("evaluate")
    )
    assert evaluated == shared  # every row the source scored is a shared row

    clinic = pd.read_csv(SAMPLE / "clinic.csv", dtype={"patient_id": str})
    hospital = pd.read_csv(SAMPLE / "hospital.csv", dtype={"patient_id": str})
    others = sorted(set(clinic["patient_id"]) - set(hospital["patient_id"]))
    files = [p for p in (tmp_path / "hospital").rglob("*") if p.is_file()]
    assert files and not [p for p in files if p.name.startswith("predictions")]
    for path in files:
        content = path.read_bytes()
        assert not [i for i in others if i.encode() in content], path
    # the scan can fail: the target's own workspace holds those IDs
    target_bytes = b"".join(p.read_bytes() for p in (tmp_path / "clinic").rglob("*") if p.is_file())
    assert all(i.encode() in target_bytes for i in others)
