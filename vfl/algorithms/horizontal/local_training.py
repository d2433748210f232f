"""A sample holder's local step: load the global parameters, train on its own rows, and
return the update Δ = x_local − x_global as one flat float64 vector.

The model is the same at every party (an MLP, or the logistic / linear presets: no hidden
layer), so parameters travel as one vector in a fixed order (`flatten` / `load_flat`).
FedProx adds (μ/2)·‖w − x_global‖² to the local loss, which keeps a party's update near
the global model on skewed data (Li et al. 2020). Batch order comes from a generator the
caller seeds, so a run (and a resumed one) is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vfl.algorithms.horizontal.strategies import Vector
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.models.mlp import mlp


def build_model(features: int, hidden: list[int], outputs: int, seed: int) -> nn.Module:
    """The shared architecture; `hidden = []` is the logistic / linear preset."""
    generator = torch.Generator().manual_seed(seed)
    return mlp([features, *hidden, outputs], generator, final_activation=False)


def flatten(model: nn.Module) -> Vector:
    with torch.no_grad():
        return torch.cat([p.reshape(-1) for p in model.parameters()]).double().numpy().copy()


def load_flat(model: nn.Module, vector: Vector) -> None:
    offset = 0
    with torch.no_grad():
        for p in model.parameters():
            size = p.numel()
            chunk = torch.from_numpy(vector[offset : offset + size]).reshape(p.shape)
            p.copy_(chunk.to(p.dtype))
            offset += size
    if offset != vector.size:
        raise ValueError(f"a parameter vector of {vector.size} values for {offset} parameters")


@dataclass(frozen=True)
class LocalConfig:
    """One party's local training in a round."""

    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str = "sgd"
    proximal_mu: float = 0.0
    """FedProx's μ; 0 is plain FedAvg local training."""


@dataclass(frozen=True)
class LocalResult:
    """What a round's local training produced."""

    delta: Vector
    samples: int
    loss_before: float
    """Mean training loss at the global parameters, before training (q-FedAvg's Fᵢ)."""


def mean_loss(model: nn.Module, codec: LabelCodec, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(codec.loss(model(x), y)) if len(x) else 0.0


def train_local(
    model: nn.Module,
    global_params: Vector,
    codec: LabelCodec,
    x: torch.Tensor,
    y: torch.Tensor,
    config: LocalConfig,
    generator: torch.Generator,
) -> LocalResult:
    """Train `model` from `global_params` on (x, y); the model keeps the local result."""
    load_flat(model, global_params)
    before = mean_loss(model, codec, x, y)
    descend(model, codec, x, y, config, generator, snapshot(model))
    return LocalResult(flatten(model) - global_params, len(x), before)


def snapshot(model: nn.Module) -> list[torch.Tensor]:
    """A detached copy of the model's parameters: the anchor of a proximal term."""
    return [p.detach().clone() for p in model.parameters()]


def descend(
    model: nn.Module,
    codec: LabelCodec,
    x: torch.Tensor,
    y: torch.Tensor,
    config: LocalConfig,
    generator: torch.Generator,
    anchor: list[torch.Tensor],
) -> None:
    """config.epochs of minibatch steps from the model's current parameters on the loss
    plus (proximal_mu/2)·‖w − anchor‖² (FedProx anchors at the start, Ditto at the global
    model), with a fresh optimizer."""
    params = list(model.parameters())
    optimizer: torch.optim.Optimizer = (
        torch.optim.Adam(params, lr=config.learning_rate)
        if config.optimizer == "adam"
        else torch.optim.SGD(params, lr=config.learning_rate)
    )
    for _ in range(config.epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), config.batch_size):
            rows = order[start : start + config.batch_size]
            optimizer.zero_grad()
            loss = codec.loss(model(x[rows]), y[rows])
            if config.proximal_mu > 0:
                drift = sum(((p - a) ** 2).sum() for p, a in zip(params, anchor, strict=True))
                loss = loss + 0.5 * config.proximal_mu * drift
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()


def predictions(model: nn.Module, codec: LabelCodec, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return codec.predictions(model(x))
