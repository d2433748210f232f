"""Regenerate the sample data sets from data that ships inside scikit-learn (no network).

Each vertical set is split between organizations that index the same people under string
IDs, list their rows in different orders, and share only part of their IDs, as real
partners do; the horizontal set is split by rows with label skew (`vfl split`).
Run: `python samples/make_samples.py`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets

from parties.data.dirichlet_split import dirichlet_split

HERE = Path(__file__).resolve().parent
BRANCHES = 5


def _split(
    frame: pd.DataFrame,
    parties: dict[str, list[str]],
    id_column: str,
    prefix: str,
    keep: float,
    seed: int,
) -> dict[str, pd.DataFrame]:
    """Give each party its columns and a random ~`keep` share of the rows, shuffled."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"{prefix}-{i:05d}" for i in rng.permutation(len(frame))])
    out = {}
    for name, columns in parties.items():
        rows = np.sort(rng.choice(len(frame), size=round(len(frame) * keep), replace=False))
        part = frame.iloc[rows][columns].copy()
        part.insert(0, id_column, ids[rows])
        out[name] = part.sample(frac=1.0, random_state=int(rng.integers(1 << 31)))
    return out


def _write(folder: Path, parts: dict[str, pd.DataFrame], job: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in parts.items():
        frame.to_csv(folder / f"{name}.csv", index=False, float_format="%.6g")
    (folder / "job.toml").write_text(job)


def breast() -> None:
    data = datasets.load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame["diagnosis"] = (frame.pop("target") == 0).astype(int)  # 1 = malignant
    cols = [c for c in frame.columns if c != "diagnosis"]
    parts = _split(
        frame,
        {"hospital": [*cols[:10], "diagnosis"], "lab": cols[10:30]},
        "patient_id",
        "P",
        keep=0.92,
        seed=11,
    )
    held = _held_back(parts, "patient_id", share=0.1, seed=13)
    _write(
        HERE / "breast", {n: f[~f["patient_id"].isin(held)] for n, f in parts.items()}, BREAST_JOB
    )
    # the held-back patients, at both parties, with their diagnosis (so the prediction job
    # also evaluates the model on them): samples/breast/predict.toml scores them
    (HERE / "breast" / "predict").mkdir(exist_ok=True)
    for name, frame in parts.items():
        new = frame[frame["patient_id"].isin(held)]
        new.to_csv(HERE / "breast" / "predict" / f"{name}.csv", index=False, float_format="%.6g")
    (HERE / "breast" / "predict.toml").write_text(BREAST_PREDICT_JOB)
    (HERE / "breast" / "job_paillier.toml").write_text(BREAST_DEMO_JOB)
    (HERE / "breast" / "predict_paillier.toml").write_text(BREAST_PREDICT_PAILLIER_JOB)


def _held_back(parts: dict[str, pd.DataFrame], id_column: str, share: float, seed: int) -> set[str]:
    """A seeded `share` of the IDs every party holds: kept out of training, for prediction."""
    frames = list(parts.values())
    shared = sorted(set.intersection(*(set(f[id_column]) for f in frames)))
    rng = np.random.default_rng(seed)
    return set(rng.choice(shared, size=round(len(shared) * share), replace=False).tolist())


def breast_paillier() -> None:
    """The two-party breast split again (the same split, no rows held back), with the cut
    layer encrypted."""
    data = datasets.load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame["diagnosis"] = (frame.pop("target") == 0).astype(int)
    cols = [c for c in frame.columns if c != "diagnosis"]
    parts = _split(
        frame,
        {"hospital": [*cols[:10], "diagnosis"], "lab": cols[10:30]},
        "patient_id",
        "P",
        keep=0.92,
        seed=11,
    )
    _write(HERE / "breast_paillier", parts, BREAST_PAILLIER_JOB)


def breast_three_party() -> None:
    data = datasets.load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame["diagnosis"] = (frame.pop("target") == 0).astype(int)
    cols = [c for c in frame.columns if c != "diagnosis"]
    parts = _split(
        frame,
        {"hospital": [*cols[:10], "diagnosis"], "lab": cols[10:20], "imaging": cols[20:30]},
        "patient_id",
        "P",
        keep=0.92,
        seed=12,
    )
    _write(HERE / "breast_three_party", parts, THREE_PARTY_JOB)


def diabetes() -> None:
    data = datasets.load_diabetes(as_frame=True, scaled=False)
    frame = data.frame.rename(columns={"target": "progression"})
    parts = _split(
        frame,
        {
            "clinic": ["age", "sex", "bmi", "bp", "progression"],
            "lab": ["s1", "s2", "s3", "s4", "s5", "s6"],
        },
        "member_id",
        "M",
        keep=0.92,
        seed=13,
    )
    _write(HERE / "diabetes_regression", parts, DIABETES_JOB)


def wine() -> None:
    data = datasets.load_wine(as_frame=True)
    frame = data.frame.rename(columns={"target": "cultivar"})
    cols = [c for c in frame.columns if c != "cultivar"]
    parts = _split(
        frame,
        {"winery": [*cols[:6], "cultivar"], "lab": cols[6:]},
        "lot_id",
        "W",
        keep=0.92,
        seed=14,
    )
    _write(HERE / "wine_multiclass", parts, WINE_JOB)


def breast_horizontal() -> None:
    """The breast data split by rows among five clinics with Dirichlet(0.5) label skew:
    every clinic has every column, each has its own patients and case mix."""
    data = datasets.load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame["diagnosis"] = (frame.pop("target") == 0).astype(int)
    parts = dirichlet_split(frame, "diagnosis", BRANCHES, alpha=0.5, seed=21, min_rows=40)
    named = {f"clinic-{i + 1}": part for i, part in enumerate(parts)}
    _write(HERE / "breast_horizontal", named, HORIZONTAL_JOB)


TRANSFER_SEED = 17
SOURCE_ROWS = 340
"""The source (a hospital) holds the diagnosis and 15 measurements of these many patients."""
SHARED_ROWS = 136
"""Patients both hold: 37 % of the target's 365 rows (the issue asks ≤ 40 %)."""


def transfer_split() -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """The transfer sample's two tables and, for evaluation only, the diagnosis of every
    patient by ID (the target never holds it; the sample's check scores against it).

    Shuffled patients 0..339 are the source's, 204..568 the target's: 136 shared."""
    data = datasets.load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame["diagnosis"] = (frame.pop("target") == 0).astype(int)  # 1 = malignant
    cols = [c for c in frame.columns if c != "diagnosis"]
    rng = np.random.default_rng(TRANSFER_SEED)
    order = rng.permutation(len(frame))
    ids = pd.Series([f"T-{i:05d}" for i in range(len(frame))], index=frame.index[order])
    source_rows = order[:SOURCE_ROWS]
    target_rows = order[SOURCE_ROWS - SHARED_ROWS :]
    source = frame.iloc[source_rows][[*cols[:15], "diagnosis"]].copy()
    source.insert(0, "patient_id", ids.loc[source.index].to_numpy())
    target = frame.iloc[target_rows][cols[15:]].copy()
    target.insert(0, "patient_id", ids.loc[target.index].to_numpy())
    truth = pd.Series(frame["diagnosis"].to_numpy(), index=ids.loc[frame.index].to_numpy())
    shuffle = int(rng.integers(1 << 31))
    parts = {
        "hospital": source.sample(frac=1.0, random_state=shuffle),
        "clinic": target.sample(frac=1.0, random_state=shuffle + 1),
    }
    return parts, truth


def transfer() -> None:
    parts, _ = transfer_split()
    _write(HERE / "transfer", parts, TRANSFER_JOB)


# The two parties every breast-cancer sample shares (the three-party one adds imaging).
HOSPITAL_AND_LAB = """\
[[parties]]
name = "hospital"
role = "label_holder"
data = "hospital.csv"
id_column = "patient_id"
label_column = "diagnosis"

[[parties]]
name = "lab"
role = "feature_holder"
data = "lab.csv"
id_column = "patient_id"
"""

HORIZONTAL_JOB = (
    """\
# Breast cancer diagnosis split by rows among five clinics (Dirichlet(0.5) label skew):
# the same columns everywhere, different patients. FedAvg with secure aggregation, the
# default: the coordinator learns only each round's sums.
[job]
name = "breast-horizontal"
mode = "horizontal"
seed = 7
"""
    + "".join(
        f"""
[[parties]]
name = "clinic-{i + 1}"
role = "sample_holder"
data = "clinic-{i + 1}.csv"
label_column = "diagnosis"
"""
        for i in range(BRANCHES)
    )
    + """
[model]
kind = "mlp"
task = "binary"
hidden = [16]

[train]
rounds = 10
local_epochs = 2
batch_size = 32
learning_rate = 0.05
strategy = "fedavg"
secure_aggregation = true
validation_fraction = 0.2
"""
)

BREAST_JOB = f"""\
# Breast cancer diagnosis (UCI Wisconsin, from scikit-learn) split between a hospital that
# holds the diagnosis and 10 measurements, and a lab that holds 20 others.
[job]
name = "breast-vertical"
mode = "vertical"
seed = 7

{HOSPITAL_AND_LAB}
[align]
protocol = "ecdh"

[model]
kind = "split_nn"
task = "binary"
bottom_hidden = [32]
cut_width = 16
top_hidden = [16]

[train]
protection = "none"  # deployed: each party.toml [policy] must list "none" in protections
epochs = 20
batch_size = 64
optimizer = "adam"
learning_rate = 0.01
validation_fraction = 0.2
"""

BREAST_PREDICT_JOB = """\
# Score the breast patients held back from training (predict/) with the model that
# `vfl simulate samples/breast/job.toml --job-id breast-demo` trained and registered at
# each party (`vfl model list`). [model], the parties and train.protection are the
# training job's: each party checks them against its registered part. The hospital keeps
# its diagnosis column, so the job also reports metrics on these patients; the scores
# land at the hospital only (docs/predict.md).
[job]
name = "breast-predict"
mode = "vertical"
seed = 7

[[parties]]
name = "hospital"
role = "label_holder"
data = "predict/hospital.csv"
id_column = "patient_id"
label_column = "diagnosis"

[[parties]]
name = "lab"
role = "feature_holder"
data = "predict/lab.csv"
id_column = "patient_id"

[align]
protocol = "ecdh"

[model]
kind = "split_nn"
task = "binary"
bottom_hidden = [32]
cut_width = 16
top_hidden = [16]

[train]
protection = "none"

[predict]
model = "breast-demo"  # the training job's id; `vfl predict ... --model ID` overrides it
deliver_to = "hospital"
# no output here: this evaluates the model on the held-back patients; `vfl predict
# samples/breast/predict.toml --output scores.csv` also writes their scores
"""

# ECDH PSI and the Paillier-protected split model of breast_paillier and `vfl demo`.
PAILLIER_PLAN = """\
[align]
protocol = "ecdh"

[model]
kind = "split_nn"
task = "binary"
bottom_hidden = [16]
cut_width = 8
top_hidden = [8]

[train]
protection = "paillier"
key_bits = 2048
epochs = {epochs}
batch_size = 128
optimizer = "adam"
learning_rate = 0.02
validation_fraction = 0.2
"""

BREAST_PAILLIER_JOB = f"""\
# The breast sample with protection = "paillier": the lab's cut-layer outputs and their
# gradients cross only encrypted under the lab's own 2048-bit Paillier key, and neither
# side learns the lab's interactive weights (docs/paillier.md). Smaller cut and fewer,
# larger batches than the plain sample keep it under half a minute on two cores.
[job]
name = "breast-paillier"
mode = "vertical"
seed = 7

{HOSPITAL_AND_LAB}
{PAILLIER_PLAN.format(epochs=8)}"""

# `vfl demo`'s training job: the breast sample's training rows (predict/ held back) with
# breast_paillier's ECDH PSI, Paillier-protected model and training settings, in half the
# epochs (the demo trains, predicts and reports in well under two minutes on two cores).
BREAST_DEMO_JOB = f"""\
# The breast sample as `vfl demo` trains it: ECDH PSI aligns the patients, then the lab's
# cut-layer outputs and their gradients cross only Paillier-encrypted (docs/paillier.md).
# The same rows as job.toml (the patients in predict/ held back); predict_paillier.toml
# then scores the held-back patients with the model this job trains.
[job]
name = "breast-paillier"
mode = "vertical"
seed = 7

{HOSPITAL_AND_LAB}
{PAILLIER_PLAN.format(epochs=4)}"""

BREAST_PREDICT_PAILLIER_JOB = """\
# Score the breast patients held back from training (predict/) with the model that
# job_paillier.toml trained (`vfl demo` sets [predict] model to its job id). [model], the
# parties and the protection are the training job's: the lab's cut-layer outputs cross
# Paillier-encrypted here too; the scores land at the hospital only (docs/predict.md).
[job]
name = "breast-predict-paillier"
mode = "vertical"
seed = 7

[[parties]]
name = "hospital"
role = "label_holder"
data = "predict/hospital.csv"
id_column = "patient_id"
label_column = "diagnosis"

[[parties]]
name = "lab"
role = "feature_holder"
data = "predict/lab.csv"
id_column = "patient_id"

[align]
protocol = "ecdh"

[model]
kind = "split_nn"
task = "binary"
bottom_hidden = [16]
cut_width = 8
top_hidden = [8]

[train]
protection = "paillier"
key_bits = 2048

[predict]
model = "breast-paillier-demo"  # the training job's id; `vfl predict --model ID` overrides it
deliver_to = "hospital"
"""

THREE_PARTY_JOB = f"""\
# The breast cancer data split three ways: a hospital with the diagnosis and 10
# measurements, a lab with 10 others and an imaging centre with the last 10.
[job]
name = "breast-three-party"
mode = "vertical"
seed = 7

{HOSPITAL_AND_LAB}
[[parties]]
name = "imaging"
role = "feature_holder"
data = "imaging.csv"
id_column = "patient_id"

[align]
protocol = "ecdh"

[model]
kind = "split_nn"
task = "binary"

[train]
protection = "none"  # deployed: each party.toml [policy] must list "none" in protections
epochs = 40  # 20 reached validation AUC 0.968-0.994 by initial weights; 40: 0.973-0.992
batch_size = 64
learning_rate = 0.01
"""

DIABETES_JOB = """\
# Diabetes progression (scikit-learn) as regression: a clinic with demographics and the
# outcome, a lab with six blood serum measurements.
[job]
name = "diabetes-regression"
mode = "vertical"
seed = 3

[[parties]]
name = "clinic"
role = "label_holder"
data = "clinic.csv"
id_column = "member_id"
label_column = "progression"

[[parties]]
name = "lab"
role = "feature_holder"
data = "lab.csv"
id_column = "member_id"

[align]
protocol = "ecdh"

[model]
kind = "split_nn"
task = "regression"
bottom_hidden = [16]
cut_width = 8
top_hidden = [8]

[train]
protection = "none"  # deployed: each party.toml [policy] must list "none" in protections
epochs = 60
batch_size = 32
learning_rate = 0.005
validation_fraction = 0.2
"""

WINE_JOB = """\
# Wine cultivar (scikit-learn, 3 classes): a winery with 6 measurements and the label,
# a lab with 7 chemical analyses.
[job]
name = "wine-multiclass"
mode = "vertical"
seed = 5

[[parties]]
name = "winery"
role = "label_holder"
data = "winery.csv"
id_column = "lot_id"
label_column = "cultivar"

[[parties]]
name = "lab"
role = "feature_holder"
data = "lab.csv"
id_column = "lot_id"

[align]
protocol = "ecdh"

[model]
kind = "logistic_regression"
task = "multiclass"

[train]
protection = "none"  # deployed: each party.toml [policy] must list "none" in protections
epochs = 30
batch_size = 32
learning_rate = 0.05
validation_fraction = 0.25
"""

TRANSFER_JOB = """\
# Federated transfer learning (docs/transfer.md) on breast cancer data (scikit-learn): a
# hospital (the source) holds the diagnosis and 15 measurements of 340 patients; a clinic
# (the target) holds 15 other measurements of 365 patients and no diagnosis. They share
# 136 patients (37 % of the clinic's). Both learn a common representation from the shared
# patients; the clinic then scores its 229 other patients alone, in its own workspace.
# samples/transfer/compare.py prints their AUC beside a clinic-only baseline, for this job
# and for job_paillier.toml (the same parties under Paillier).
[job]
name = "breast-transfer"
mode = "transfer"
seed = 7

[[parties]]
name = "hospital"
role = "source"
data = "hospital.csv"
id_column = "patient_id"
label_column = "diagnosis"

[[parties]]
name = "clinic"
role = "target"
data = "clinic.csv"
id_column = "patient_id"

[align]
protocol = "ecdh"
pad_target_to = 400  # the hospital learns this bound, not the clinic's 365 patients

[model]
kind = "ftl"
task = "binary"
hidden = [32]
representation_width = 8

[train]
protection = "none"  # deployed: each party.toml [policy] must list "none" in protections
alignment_weight = 0.1
local_rounds = 1
epochs = 30
batch_size = 32
optimizer = "adam"
learning_rate = 0.01
validation_fraction = 0.2

[predict]
format = "csv"
"""


def main() -> None:
    breast()
    breast_paillier()
    breast_three_party()
    diabetes()
    wine()
    breast_horizontal()
    transfer()
    print(f"wrote samples under {HERE}")


if __name__ == "__main__":
    main()
