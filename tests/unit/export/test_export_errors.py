"""A folder that cannot be exported gives one ExportError line naming it, what was found
and the fix; nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.unit.export.rows import run_onnx
from vfl.errors import ExportError
from vfl.export.onnx import export_part
from vfl.models.mlp import mlp
from vfl.runtime.workspace import Workspace


def _feature_holder(root: Path, **meta: Any) -> Path:
    """A hand-made feature holder's folder: scaler + a 3 → 2 bottom."""
    bottom = mlp([3, 2], torch.Generator().manual_seed(1), final_activation=True)
    state = {
        "bottom": bottom.state_dict(),
        "scaler": {"mean": torch.tensor([1.0, 2.0, 3.0]), "scale": torch.tensor([2.0, 4.0, 1.0])},
        "side": {},
    }
    base = {"role": "feature_holder", "kind": "split_nn", "feature_names": ["a", "b", "c"]}
    return Workspace(root).save_model(state, {**base, **meta})


def _fails(folder: Path, out: Path, *needles: str) -> None:
    with pytest.raises(ExportError) as caught:
        export_part(folder, out)
    message = str(caught.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    assert not out.exists()


def test_hand_made_folder_exports(tmp_path: Path) -> None:
    """The baseline the corruptions below start from: it exports and computes relu(Wx̂+b)."""
    folder = _feature_holder(tmp_path / "ws")
    out = export_part(folder, tmp_path / "ok.onnx")
    x = torch.tensor([[3.0, 6.0, 4.0], [1.0, 2.0, 3.0]])
    bottom = mlp([3, 2], torch.Generator().manual_seed(1), final_activation=True)
    want = bottom((x - torch.tensor([1.0, 2.0, 3.0])) / torch.tensor([2.0, 4.0, 1.0]))
    got = run_onnx(out, {"features": x.numpy()})["cut"]
    torch.testing.assert_close(torch.from_numpy(got), want.detach(), rtol=1e-5, atol=1e-6)


def test_missing_folder(tmp_path: Path) -> None:
    _fails(tmp_path / "nowhere", tmp_path / "x.onnx", str(tmp_path / "nowhere"), "no model folder")


def test_folder_without_model_json(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _fails(tmp_path / "empty", tmp_path / "x.onnx", "no model.json", "re-run")


def test_corrupt_model_json(tmp_path: Path) -> None:
    folder = _feature_holder(tmp_path / "ws")
    (folder / "model.json").write_text("{not json")
    _fails(folder, tmp_path / "x.onnx", "model.json", "not valid JSON", "re-run")


def test_corrupt_weights(tmp_path: Path) -> None:
    folder = _feature_holder(tmp_path / "ws")
    (folder / "weights.pt").write_bytes(b"\x00garbage" * 10)
    _fails(folder, tmp_path / "x.onnx", "weights.pt", "not a readable weights file")


def test_missing_weights(tmp_path: Path) -> None:
    folder = _feature_holder(tmp_path / "ws")
    (folder / "weights.pt").unlink()
    _fails(folder, tmp_path / "x.onnx", str(folder), "no weights.pt")


def test_unknown_role(tmp_path: Path) -> None:
    folder = _feature_holder(tmp_path / "ws", role="oracle")
    _fails(folder, tmp_path / "x.onnx", "'oracle'", "feature_holder, label_holder")


def test_weights_not_matching_meta(tmp_path: Path) -> None:
    folder = _feature_holder(tmp_path / "ws", feature_names=["a", "b"])
    _fails(folder, tmp_path / "x.onnx", str(folder), "scaler has 3 columns", "2 features")


def test_missing_state_entry(tmp_path: Path) -> None:
    folder = _feature_holder(tmp_path / "ws")
    state = torch.load(folder / "weights.pt", weights_only=True)
    del state["bottom"]["0.bias"]
    torch.save(state, folder / "weights.pt")
    _fails(folder, tmp_path / "x.onnx", str(folder), "does not fit model.json")


def test_horizontal_folder_from_before_export(tmp_path: Path) -> None:
    """model.json without the architecture: saved by a version that did not record it."""
    state = {"params": torch.zeros(4, dtype=torch.float64), "mean": torch.zeros(3),
             "scale": torch.ones(3)}  # fmt: skip
    folder = Workspace(tmp_path / "ws").save_model(
        state, {"mode": "horizontal", "features": ["a", "b", "c"]}
    )
    _fails(folder, tmp_path / "x.onnx", "without its architecture", "re-run")


def test_out_folder_missing(tmp_path: Path) -> None:
    folder = _feature_holder(tmp_path / "ws")
    _fails(folder, tmp_path / "no" / "x.onnx", "does not exist")


def test_model_json_not_an_object(tmp_path: Path) -> None:
    folder = _feature_holder(tmp_path / "ws")
    (folder / "model.json").write_text(json.dumps([1, 2]))
    _fails(folder, tmp_path / "x.onnx", "not an object")
