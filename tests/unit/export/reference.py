"""The torch parts as training holds them: the training code's own classes, built from the
job spec and loaded with what the model folder holds (independent of vfl.export's rebuild).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from vfl.algorithms.split.exchange import PlainLabelSide
from vfl.algorithms.split.label_model import LabelHolderModel
from vfl.algorithms.split.models import build_bottom
from vfl.algorithms.split.preprocess import LabelCodec, Standardizer
from vfl.config.job_spec import VerticalJobSpec
from vfl.runtime.party_secret import SECRET_BYTES, PartySecret


def saved(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    state: dict[str, Any] = torch.load(folder / "weights.pt", weights_only=True)
    return state, json.loads((folder / "model.json").read_text())


def feature_holder_cut(
    spec: VerticalJobSpec, folder: Path, raw: NDArray[np.float32]
) -> torch.Tensor:
    """a_p = bottom(Standardizer.apply(x)): what the feature holder sends for these rows."""
    state, _ = saved(folder)
    bottom, _ = build_bottom(spec, raw.shape[1], torch.Generator())
    bottom.load_state_dict(state["bottom"])
    with torch.no_grad():
        out: torch.Tensor = bottom(Standardizer.from_state(state["scaler"]).apply(raw))
    return out


def label_holder_outputs(
    spec: VerticalJobSpec,
    folder: Path,
    raw: NDArray[np.float32],
    contributions: dict[str, torch.Tensor],
    paillier: bool,
) -> tuple[torch.Tensor, NDArray[np.float64]]:
    """(logits, codec predictions) of the trained LabelHolderModel on these rows, each
    peer's input being a_p (plain: the model applies its W_p) or z_p = a_p·W_p (Paillier)."""
    state, meta = saved(folder)
    codec = LabelCodec(
        meta["task"], tuple(meta["classes"]), meta["target_mean"], meta["target_scale"]
    )
    secret = PartySecret(b"\0" * SECRET_BYTES, "job", "any", b"\0" * 32)
    model = LabelHolderModel(spec, secret, raw.shape[1], meta["peer_widths"], codec.outputs)
    model.load_state_dict(state["model"])
    model.eval()
    with torch.no_grad():
        x = Standardizer.from_state(state["scaler"]).apply(raw)
        z = model.bottom(x) @ model.own.weight + model.bias
        for peer, side in model.sides.items():
            c = contributions[peer]
            if not paillier:
                assert isinstance(side, PlainLabelSide)
                c = side.block(c)
            z = z + c
        logits: torch.Tensor = model.top(z)
    return logits, codec.predictions(logits)
