"""The transfer sample's point, in two numbers: the clinic's AUC on its patients the
hospital does not know, from FTL, beside a clinic-only baseline.

The baseline is the clinic's own columns trained with the labels of the shared patients
(which the clinic never gets in FTL: an oracle, the non-federated model on its own
features). Both are scored on the clinic's 229 other patients, against the diagnosis the
sample generator kept aside (samples/make_samples.py, `transfer_split`).

Run: `python samples/transfer/compare.py` (simulates job.toml and job_paillier.toml, then
prints the AUCs; the Paillier job takes a minute: 2048-bit keys).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from make_samples import transfer_split  # noqa: E402  (the generator is a script beside us)


def ftl_auc(predictions: Path) -> float:
    """AUC of the clinic's predictions file against the kept-aside diagnosis."""
    _, truth = transfer_split()
    scored = pd.read_csv(predictions, dtype={"patient_id": str})
    return float(roc_auc_score(truth.loc[scored["patient_id"]].to_numpy(), scored["score"]))


def baseline_auc() -> float:
    """Clinic-only: its features of the shared patients with their labels (an oracle),
    scored on its other patients."""
    parts, truth = transfer_split()
    clinic = parts["clinic"].set_index("patient_id")
    shared = clinic.index.isin(parts["hospital"]["patient_id"])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(clinic[shared].to_numpy(), truth.loc[clinic.index[shared]].to_numpy())
    other = clinic[~shared]
    scores = model.predict_proba(other.to_numpy())[:, 1]
    return float(roc_auc_score(truth.loc[other.index].to_numpy(), scores))


def main() -> None:
    import vfl  # noqa: PLC0415 (only the command needs the platform)

    print(f"AUC, clinic-only baseline (oracle labels):   {baseline_auc():.3f}")
    for name, spec in (("plain", "job.toml"), ("Paillier", "job_paillier.toml")):
        result = vfl.simulate(HERE / spec)
        if result.status != "succeeded":
            raise SystemExit(f"the transfer job {spec} failed: {result.error}")
        predictions = Path(result.outputs["clinic"]["predictions"])
        rows = len(pd.read_csv(predictions))
        print(f"{spec}: {rows} clinic patients outside the intersection")
        print(f"AUC, FTL {name:8} (labels never at the clinic): {ftl_auc(predictions):.3f}")
        valid = result.metrics["validation"].get("auc", np.nan)
        print(f"validation AUC on shared patients (hospital): {valid:.3f}")


if __name__ == "__main__":
    main()
