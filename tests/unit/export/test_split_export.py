"""Vertical parts exported to ONNX and run by onnxruntime give the trained torch parts'
outputs on the same rows: each feature holder's cut layer, the label holder's logits and
predictions (docs/export.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.export import reference
from tests.unit.export.rows import (
    close,
    metadata,
    raw_rows,
    run_onnx,
    shift_features,
    simulate_fixed,
)
from tests.unit.split_paillier.harness import run_job
from vfl.algorithms.split.paillier.shares import from_tensor
from vfl.crypto.fixed_point import decode
from vfl.export.onnx import export_part

PLAIN = {
    "binary-two-feature-holders": ({"bank": 3, "shop": 2, "telco": 4}, "binary", {}),
    "multiclass": ({"bank": 2, "shop": 3}, "multiclass", {"task": "multiclass"}),
    "label-holder-without-features": ({"bank": 0, "shop": 3}, "binary", {}),
    "regression-preset": (
        {"bank": 2, "shop": 3},
        "regression",
        {"kind": "linear_regression", "task": "regression"},
    ),
}


def _predictions(onnx_out: np.ndarray, task: str) -> np.ndarray:
    return onnx_out if task == "multiclass" else onnx_out.reshape(-1)


@pytest.mark.parametrize("case", list(PLAIN))
def test_plain_parts_match_torch(tmp_path: Path, case: str) -> None:
    widths, task, model = PLAIN[case]
    paths = synthetic_vertical(tmp_path, widths, rows=120, task=task)
    shift_features(paths)
    spec = job_spec(job_dict(paths, model=model, train={"epochs": 2}))
    simulate_fixed(spec, tmp_path / "run")
    raw = raw_rows(spec)
    label, peers = spec.label_holder.name, [p.name for p in spec.feature_holders]

    cuts: dict[str, np.ndarray] = {}
    for peer in peers:
        folder = tmp_path / "run" / peer / "model"
        out = export_part(folder, tmp_path / f"{peer}.onnx")
        got = run_onnx(out, {"features": raw[peer]})["cut"]
        want = reference.feature_holder_cut(spec, folder, raw[peer])
        close(got, want.numpy())
        cuts[peer] = got
        meta = metadata(out)
        assert meta["vfl.role"] == "feature_holder" and meta["vfl.protection"] == "none"
        assert json.loads(meta["vfl.feature_names"]) == [
            f"{peer}_f{j}" for j in range(widths[peer])
        ]

    folder = tmp_path / "run" / label / "model"
    out = export_part(folder, tmp_path / "label.onnx")
    own = {"features": raw[label]} if widths[label] else {}  # no columns: no such input
    outputs = run_onnx(out, {**own, **{f"cut_{p}": cuts[p] for p in peers}})
    logits, predictions = reference.label_holder_outputs(
        spec, folder, raw[label], {p: torch.from_numpy(cuts[p]) for p in peers}, paillier=False
    )
    close(outputs["logits"], logits.numpy())
    close(_predictions(outputs["prediction"], task), predictions)
    meta = metadata(out)
    assert meta["vfl.role"] == "label_holder" and json.loads(meta["vfl.peers"]) == peers
    assert list(json.loads(meta["vfl.inputs"])) == [*own, *(f"cut_{p}" for p in peers)]


@pytest.mark.parametrize(
    "model",
    [{"top_hidden": [8]}, {"kind": "logistic_regression"}],
    ids=["split_nn", "logistic-preset"],
)
def test_paillier_parts_export_what_each_party_holds(
    tmp_path: Path, model: dict[str, object]
) -> None:
    """Under Paillier W_p is secret-shared: the label holder's graph takes z_p = a_p·W_p.
    The test (not a party) rebuilds W_p = V + acc from both shares to feed it."""
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=96)
    shift_features(paths)
    train = {"protection": "paillier", "epochs": 1, "workers": 1, "precision_bits": 20}
    spec = job_spec(job_dict(paths, train=train, model=model))
    run = run_job(spec, tmp_path / "run")
    assert run.losses, "training ran"
    raw = raw_rows(spec)
    shop, bank = tmp_path / "run" / "shop" / "model", tmp_path / "run" / "bank" / "model"

    out = export_part(shop, tmp_path / "shop.onnx")
    a = run_onnx(out, {"features": raw["shop"]})["cut"]
    close(a, reference.feature_holder_cut(spec, shop, raw["shop"]).numpy())
    assert metadata(out)["vfl.protection"] == "paillier"

    v = from_tensor(reference.saved(bank)[0]["model"]["sides.shop.v_fixed"], "V")
    acc = from_tensor(reference.saved(shop)[0]["side"]["acc"], "acc")
    w = torch.from_numpy(decode(v + acc, 20))
    z = (torch.from_numpy(a).double() @ w).float()
    out = export_part(bank, tmp_path / "bank.onnx")
    assert list(json.loads(metadata(out)["vfl.inputs"])) == ["features", "z_shop"]
    got = run_onnx(out, {"features": raw["bank"], "z_shop": z.numpy()})
    logits, predictions = reference.label_holder_outputs(
        spec, bank, raw["bank"], {"shop": z}, paillier=True
    )
    close(got["logits"], logits.numpy())
    close(got["prediction"].reshape(-1), predictions)


def test_rows_are_dynamic(tmp_path: Path) -> None:
    """One row or many: the batch dimension is not fixed at export."""
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 3}, rows=80)
    spec = job_spec(job_dict(paths, train={"epochs": 1}))
    simulate_fixed(spec, tmp_path / "run")
    raw = raw_rows(spec, rows=7)
    out = export_part(tmp_path / "run" / "shop" / "model", tmp_path / "shop.onnx")
    for n in (1, 7):
        assert run_onnx(out, {"features": raw["shop"][:n]})["cut"].shape == (n, 4)
