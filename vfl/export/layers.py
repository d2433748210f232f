"""Torch building blocks of exported graphs: the baked-in scaler, MLPs rebuilt from a
state dict alone, and the prediction head."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from vfl.errors import ExportError
from vfl.models.mlp import mlp


class Scale(nn.Module):
    """(x − mean) / scale in float32: the party's Standardizer, as the model saw its input."""

    def __init__(self, mean: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.detach().to(torch.float32).reshape(-1).clone())
        self.register_buffer("scale", scale.detach().to(torch.float32).reshape(-1).clone())

    @property
    def width(self) -> int:
        return int(self.get_buffer("mean").numel())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.get_buffer("mean")) / self.get_buffer("scale")


class Head(nn.Module):
    """Logits → predictions in the label's terms, as LabelCodec.predictions gives them:
    binary P(1) (rows×1), multiclass one probability per class, regression the value in
    the label's own units (rows×1)."""

    def __init__(self, task: str, target_mean: float = 0.0, target_scale: float = 1.0) -> None:
        super().__init__()
        if task not in ("binary", "multiclass", "regression"):
            raise ValueError(f"unknown task {task!r}")
        self.task, self.target_mean, self.target_scale = task, target_mean, target_scale

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        if self.task == "binary":
            return torch.sigmoid(logits)
        if self.task == "multiclass":
            return torch.softmax(logits, dim=1)
        return logits * self.target_scale + self.target_mean


def scaler(state: Mapping[str, Any], width: int, where: str) -> Scale:
    """The saved Standardizer state {"mean", "scale"}, checked against `width` columns."""
    scale = Scale(state["mean"], state["scale"])
    if scale.width != width or state["scale"].numel() != width:
        raise ExportError(
            f"{where}: the scaler has {scale.width} columns, model.json names {width} "
            "features; the folder is inconsistent — re-run the train phase"
        )
    return scale


def sub_state(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries under `prefix` (e.g. "bottom."), with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def mlp_from_state(state: Mapping[str, torch.Tensor], final_activation: bool) -> nn.Sequential:
    """The `vfl.models.mlp` MLP whose state dict is `state`: widths are read from the
    weights' shapes, and a strict load checks the layer layout (Linear at even indices,
    ReLU between). Raises ValueError / RuntimeError / KeyError when it does not fit."""
    indices = sorted({int(key.split(".", 1)[0]) for key in state})
    if not indices:
        raise ValueError("no layers")
    weights = [state[f"{i}.weight"] for i in indices]
    widths = [int(weights[0].shape[1]), *(int(w.shape[0]) for w in weights)]
    model = mlp(widths, torch.Generator(), final_activation)
    model.load_state_dict(dict(state), strict=True)
    return model.eval()
