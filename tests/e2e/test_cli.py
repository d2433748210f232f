"""The `vfl` command as a user runs it: a real process, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn import metrics as skm

from tests.factories import job_dict, synthetic_vertical, write_toml

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
VFL = [sys.executable, "-m", "vfl.cli.main"]


def _run(
    *args: str, cwd: Path, wide: bool = False, timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    """`vfl ARGS`; `wide`: rich tables and lines 200 columns wide, so no path is folded."""
    env = {**os.environ, "COLUMNS": "200"} if wide else None
    return subprocess.run(
        [*VFL, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout_s,
        check=False,
        env=env,
    )


def test_simulate_writes_the_result_json_contract(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = _run(
        "simulate",
        str(SAMPLES / "breast" / "job.toml"),
        "--json",
        str(out),
        "--workdir",
        str(tmp_path / "run"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    keys = {"job", "mode", "status", "align", "metrics", "curves", "history", "timings", "bytes"}
    assert keys <= set(result)
    assert result["status"] == "succeeded"
    assert set(result["align"]) == {"protocol", "intersection_size", "party_rows"}
    assert {"auc", "ks", "accuracy"} <= set(result["metrics"]["validation"])
    # a binary task: ROC/KS points of the held-out split only, close to the exact AUC and KS
    assert set(result["curves"]) == {"validation"}
    roc, ks = result["curves"]["validation"]["roc"], result["curves"]["validation"]["ks"]
    assert 3 <= len(roc["fpr"]) == len(roc["tpr"]) <= 66
    area = float(skm.auc(roc["fpr"], roc["tpr"]))
    assert area == pytest.approx(result["metrics"]["validation"]["auc"], abs=0.03)
    assert ks["ks"] <= result["metrics"]["validation"]["ks"] + 1e-9
    assert {"epoch", "train_loss", "validation_loss"} <= set(result["history"][0])
    assert {"align_s", "train_s", "total_s"} <= set(result["timings"])
    assert set(result["bytes"]["hospital"]) == {"sent", "received"}
    assert "validation" in proc.stdout and "auc" in proc.stdout


def _prediction_lines(stdout: str) -> tuple[str, list[str]]:
    """The demo's training job id and the lines of `vfl model list` it printed."""
    trained = re.findall(r"breast-paillier-[0-9a-f]{8}", stdout)
    assert trained, stdout
    listed = [line.strip() for line in stdout.splitlines() if line.startswith("  breast-")]
    return trained[0], listed


# the demo is a Paillier job: about a minute deployed on idle cores, several on busy ones
@pytest.mark.timeout(900)
def test_demo_trains_lists_the_parts_then_predicts_and_evaluates(tmp_path: Path) -> None:
    proc = _run("demo", cwd=tmp_path, wide=True, timeout_s=840)
    assert proc.returncode == 0, proc.stderr  # training and prediction succeeded
    assert "auc" in proc.stdout and "validation" in proc.stdout
    job_id, listed = _prediction_lines(proc.stdout)
    # one part per node, each in its own registry
    assert [line.split()[:2] for line in listed] == [[job_id, "hospital"], [job_id, "lab"]]
    assert f"model {job_id} on the held-back patients" in proc.stdout
    assert re.search(r"│ rows\s+│\s+48\.0000 │", proc.stdout)  # evaluated on the 48 patients
    assert re.search(r"scores at hospital: /\S*/hospital/state/outputs/scores\.csv", proc.stdout)
    assert "scores at lab" not in proc.stdout
    # ECDH PSI, then the cut layer under Paillier, in training and in prediction
    assert re.search(r"aligned rows: \d+ \(ecdh\)", proc.stdout)
    assert all(", paillier)" in line for line in listed), listed
    # each party's ledger summary ends the demo: what crossed, to whom, encrypted how
    ledgers = proc.stdout.split("demo: what left the ")[1:]
    assert [x.split("'")[0] for x in ledgers] == ["hospital", "lab"]
    for ledger, kind, peer, readable in (
        (ledgers[0], "split_paillier.MaskedProduct", "lab", "masked"),
        (ledgers[1], "split_paillier.EncryptedActivations", "hospital", "paillier"),
    ):
        assert f"job {job_id}: " in ledger and "job breast-predict-paillier-" in ledger
        rows = [line.split() for line in ledger.splitlines() if kind in line]
        assert rows and all(r[1] == peer and r[5:7] == [readable, "paillier"] for r in rows), rows
    assert not re.search(r"P-\d{5}", proc.stdout)  # no patient ID is ever printed


@pytest.mark.timeout(900)
def test_demo_in_process_registers_the_parts_and_writes_the_scores(tmp_path: Path) -> None:
    proc = _run("demo", "--in-process", cwd=tmp_path, wide=True, timeout_s=840)
    assert proc.returncode == 0, proc.stderr
    job_id, listed = _prediction_lines(proc.stdout)
    assert [line.split()[:2] for line in listed] == [[job_id, "hospital"], [job_id, "lab"]]
    assert re.search(r"│ rows\s+│\s+48\.0000 │", proc.stdout)
    assert sorted(p.name for p in (tmp_path / ".vfl" / "models").iterdir()) == ["hospital", "lab"]
    (scores,) = (tmp_path / ".vfl" / "outputs").iterdir()
    frame = pd.read_csv(scores)
    assert len(frame) == 48 and list(frame.columns) == ["patient_id", "score", "class"]


def test_config_error_is_one_line_with_exit_code_2(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=20)
    spec = write_toml(tmp_path / "job.toml", job_dict(paths, train={"epochz": 1}))
    proc = _run("simulate", str(spec), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "train.epochz: unknown field (did you mean 'epochs'?)" in proc.stderr


def test_data_error_names_the_file_and_exits_2(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=20)
    lines = paths["shop"].read_text().splitlines()
    lines[1] = lines[2].split(",")[0] + "," + lines[1].split(",", 1)[1]  # row 1 takes row 2's ID
    paths["shop"].write_text("\n".join(lines) + "\n")
    proc = _run("simulate", str(write_toml(tmp_path / "job.toml", job_dict(paths))), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "vfl: error: shop.csv: ID column 'id' has 1 duplicated IDs (2 rows); "
        "IDs must be unique — deduplicate the source"
    )


def test_runtime_failure_exits_1_and_reports_status(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=20)
    paths["shop"].write_text(paths["shop"].read_text().replace("id-", "x-"))
    out = tmp_path / "r.json"
    proc = _run(
        "simulate",
        str(write_toml(tmp_path / "job.toml", job_dict(paths))),
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert json.loads(out.read_text())["status"] == "failed"


def test_audit_mounts_label_inference_and_writes_findings(tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    job = SAMPLES / "breast" / "job.toml"
    proc = _run(
        "audit", str(job), "--json", str(out), "--workdir", str(tmp_path / "run"), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    privacy = json.loads(out.read_text())["privacy"]
    assert (privacy["label_dp"], privacy["epsilon"]) == (None, {})
    by_attack = {a["attack"]: a for a in privacy["attacks"]}
    assert set(by_attack) == {
        "norm_label_inference",
        "cosine_label_inference",
        "activation_reconstruction",
    }
    for name in ("norm_label_inference", "cosine_label_inference"):
        finding = by_attack[name]
        assert (finding["attacker"], finding["target"], finding["metric"]) == (
            "lab",
            "hospital",
            "auc",
        )
        assert 0.5 <= finding["value"] <= 1.0
    reconstruction = by_attack["activation_reconstruction"]
    assert (reconstruction["attacker"], reconstruction["target"]) == ("hospital", "lab")
    assert reconstruction["value"] == 0.0  # protection = "none": the relay hands L a itself
    assert "norm_label_inference" in proc.stdout and "privacy audit" in proc.stdout


def test_audit_of_a_regression_job_mounts_only_what_applies(tmp_path: Path) -> None:
    """Label inference needs binary labels; the label holder's reconstruction applies."""
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=20, task="regression")
    spec = write_toml(
        tmp_path / "job.toml",
        job_dict(paths, model={"kind": "linear_regression", "task": "regression"}),
    )
    out = tmp_path / "audit.json"
    proc = _run("audit", str(spec), "--json", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    attacks = json.loads(out.read_text())["privacy"]["attacks"]
    assert [a["attack"] for a in attacks] == ["activation_reconstruction"]
