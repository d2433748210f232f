"""Label inference vs label-DP: attack AUC and validation AUC, no defence and ε ∈ {1, 4, 8}.

For each data set, `vfl.audit` trains the same job (same secrets, same batches) once per
setting and mounts the feature holder's norm and cosine label-inference attacks on the
gradients it received (docs/privacy.md). The no-defence row is the baseline of the same
run. `protection = "none"`: a feature holder's view is δ̃·Wᵀ under Paillier too, which it
decrypts to train (tests/unit/privacy check that the Paillier view leaks alike).

- breast: samples/breast (569 rows, 20 epochs);
- default credit: ../shared/data/fate default_credit_hetero (30,000 rows; synthetic data
  of that shape when absent), split_nn 32-16-16, B = 256, --epochs epochs.

    .venv/bin/python -m benchmarks.privacy_audit [--epochs 5] [--rows 30000]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import write_result
from benchmarks.he_split import data
from tests.factories import job_dict, job_spec
from vfl.api import audit
from vfl.config.job_spec import VerticalJobSpec, vertical
from vfl.config.loading import load_job

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SETTINGS: tuple[float | None, ...] = (None, 1.0, 4.0, 8.0)
MODEL = {"bottom_hidden": [32], "cut_width": 16, "top_hidden": [16]}


def with_privacy(spec: VerticalJobSpec, epsilon: float | None) -> VerticalJobSpec:
    return spec.with_overrides({"privacy.label_dp_epsilon": epsilon})


def row(spec: VerticalJobSpec, epsilon: float | None, folder: Path) -> dict[str, Any]:
    secrets = {p.name: hashlib.sha256(p.name.encode()).digest() for p in spec.parties}
    result = audit(  # the same secrets and digest in every setting: the same initial model
        with_privacy(spec, epsilon),
        workdir=folder,
        party_secrets=secrets,
        spec_digest=hashlib.sha256(b"benchmarks.privacy_audit").digest(),
    )
    assert result.status == "succeeded", result.error
    attacks = {f.attack: f.value for f in result.privacy.attacks if f.metric == "auc"}
    return {
        "label_dp_epsilon": epsilon,
        "epsilon_spent": max(result.privacy.epsilon.values(), default=None),
        "validation_auc": result.metrics["validation"]["auc"],
        "norm_attack_auc": attacks["norm_label_inference"],
        "cosine_attack_auc": attacks["cosine_label_inference"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5, help="default credit epochs")
    parser.add_argument("--rows", type=int, default=30_000, help="default credit rows")
    args = parser.parse_args()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths, source = data(folder, args.rows)
        train = {"batch_size": 256, "epochs": args.epochs, "protection": "none"}
        credit = job_spec(job_dict(paths, model=MODEL, train=train))
        sets = {
            "breast": vertical(load_job(SAMPLES / "breast" / "job.toml")),
            "default_credit": credit,
        }
        for name, spec in sets.items():
            out[name] = {"rows": [], "epochs": spec.train.epochs}
            for eps in SETTINGS:
                r = row(spec, eps, folder / f"{name}-{eps}")
                out[name]["rows"].append(r)
                print(name, r, flush=True)
        out["default_credit"]["source"] = source
    path = write_result("privacy_audit", out)
    print("| data | label-DP ε | ε spent | validation AUC | norm attack AUC | cosine attack AUC |")
    print("|---|---|---|---|---|---|")
    for name in ("breast", "default_credit"):
        for r in out[name]["rows"]:
            target = "none" if r["label_dp_epsilon"] is None else f"{r['label_dp_epsilon']:g}"
            used = "–" if r["epsilon_spent"] is None else f"{r['epsilon_spent']:.3f}"
            print(
                f"| {name} | {target} | {used} | {r['validation_auc']:.4f} | "
                f"{r['norm_attack_auc']:.3f} | {r['cosine_attack_auc']:.3f} |"
            )
    print(f"-> {path}")


if __name__ == "__main__":
    main()
