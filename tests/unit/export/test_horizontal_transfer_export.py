"""Horizontal models (a sample holder's or the coordinator's copy) and transfer
representation networks exported to ONNX give the torch models' outputs on the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from tests.unit.export.reference import saved
from tests.unit.export.rows import (
    close,
    metadata,
    raw_rows,
    run_onnx,
    shift_features,
    simulate_fixed,
)
from vfl.algorithms.horizontal.local_training import build_model, load_flat
from vfl.algorithms.split.preprocess import LabelCodec, Standardizer
from vfl.algorithms.transfer.model import build_representation
from vfl.config.job_spec import horizontal
from vfl.config.loading import load_job
from vfl.export.onnx import export_part


def test_horizontal_model_matches_torch(tmp_path: Path) -> None:
    paths = synthetic_horizontal(tmp_path / "data", parties=2, rows=80, width=4)
    shift_features(paths, keep=("y",))
    job = write_toml(tmp_path / "job.toml", horizontal_dict(paths, train={"rounds": 2}))
    spec = horizontal(load_job(job))
    simulate_fixed(spec, tmp_path / "run")
    party = spec.parties[0].name
    raw = raw_rows(spec.model_copy(update={"parties": [spec.parties[0]]}))[party]

    state, _ = saved(tmp_path / "run" / party / "model")
    model = build_model(raw.shape[1], spec.model.layers, 1, 0)
    load_flat(model, state["params"].double().numpy())
    scaled = (raw - state["mean"].numpy()) / state["scale"].numpy()  # as _Local.x: float64
    with torch.no_grad():
        logits = model(torch.from_numpy(scaled.astype(np.float32)))
    predictions = LabelCodec("binary", (0.0, 1.0), 0.0, 1.0).predictions(logits)

    for holder, role in ((party, "sample_holder"), ("coordinator", "coordinator")):
        out = export_part(tmp_path / "run" / holder / "model", tmp_path / f"{holder}.onnx")
        got = run_onnx(out, {"features": raw})
        close(got["logits"], logits.numpy())
        close(got["prediction"].reshape(-1), predictions)
        meta = metadata(out)
        assert (meta["vfl.mode"], meta["vfl.role"]) == ("horizontal", role)
        assert json.loads(meta["vfl.feature_names"]) == [f"f{j}" for j in range(4)]


def test_transfer_representations_match_torch(tmp_path: Path) -> None:
    paths = synthetic_transfer(tmp_path, rows=120)
    shift_features(paths)
    spec = transfer_spec(transfer_dict(paths))
    simulate_fixed(spec, tmp_path / "run")
    for party in ("source", "target"):
        raw = raw_rows(spec.model_copy(update={"parties": [spec.party(party)]}))[party]
        folder = tmp_path / "run" / party / "model"
        state, _ = saved(folder)
        net = build_representation(spec, raw.shape[1], torch.Generator())
        net.load_state_dict(state["net"])
        with torch.no_grad():
            want = net(Standardizer.from_state(state["scaler"]).apply(raw))
        out = export_part(folder, tmp_path / f"{party}.onnx")
        close(run_onnx(out, {"features": raw})["representation"], want.numpy())
        assert metadata(out)["vfl.role"] == party
