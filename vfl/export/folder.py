"""Reading a party's model folder (model.json + weights.pt or weights.npz) for export.

Every failure is one ExportError line naming the file, what was found and the fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vfl.errors import ExportError

RETRAIN = "re-run the job's train phase to publish it again"


@dataclass(frozen=True)
class ModelFolder:
    """A model folder as training wrote it: its meta (model.json) and its saved state."""

    path: Path
    meta: dict[str, Any]
    state: dict[str, Any]
    weights_file: str


def load_folder(path: Path) -> ModelFolder:
    """The folder's meta and state, or an ExportError saying what is wrong with it."""
    if not path.is_dir():
        raise ExportError(
            f"{path}: no model folder there; pass the `model` folder a party's train phase "
            "wrote (its workspace's model/)"
        )
    meta_path = path / "model.json"
    if not meta_path.is_file():
        raise ExportError(f"{path}: no model.json, so not a model folder; {RETRAIN}")
    try:
        meta = json.loads(meta_path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{meta_path}: not valid JSON ({first_line(exc)}); {RETRAIN}") from None
    if not isinstance(meta, dict):
        raise ExportError(f"{meta_path}: a JSON {type(meta).__name__}, not an object; {RETRAIN}")
    state, name = _state(path)
    return ModelFolder(path, meta, state, name)


def _state(path: Path) -> tuple[dict[str, Any], str]:
    pt, npz = path / "weights.pt", path / "weights.npz"
    if pt.is_file():
        try:
            state = torch.load(pt, weights_only=True)
        except Exception as exc:  # torch raises many kinds for a damaged file
            raise ExportError(
                f"{pt}: not a readable weights file ({type(exc).__name__}: {first_line(exc)}); "
                f"{RETRAIN}"
            ) from None
        if not isinstance(state, dict):
            raise ExportError(f"{pt}: holds a {type(state).__name__}, not a dict; {RETRAIN}")
        return state, pt.name
    if npz.is_file():
        try:
            with np.load(npz, allow_pickle=False) as stored:
                return {k: torch.from_numpy(stored[k]) for k in stored.files}, npz.name
        except (OSError, ValueError) as exc:
            raise ExportError(
                f"{npz}: not a readable weights file ({first_line(exc)}); {RETRAIN}"
            ) from None
    raise ExportError(f"{path}: model.json but no weights.pt or weights.npz; {RETRAIN}")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message: errors here stay one line."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
