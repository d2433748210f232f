"""MLPs initialised from an explicit generator, so every party's init is reproducible.

torch's default init draws from the process-global RNG, which parties running in threads
(the simulator) would share; each party passes a generator drawn from its own secret
(vfl/algorithms/split/initial_weights.py).
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import nn


def init_linear(layer: nn.Linear, generator: torch.Generator, fan_in: int | None = None) -> None:
    """torch's default Linear init (uniform ±1/√fan_in), drawn from `generator`."""
    bound = 1.0 / math.sqrt(fan_in or layer.in_features)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        if layer.bias is not None:
            layer.bias.uniform_(-bound, bound, generator=generator)


def mlp(widths: list[int], generator: torch.Generator, final_activation: bool) -> nn.Sequential:
    """Linear layers between consecutive widths, ReLU between them (and after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(widths)):
        linear = nn.Linear(a, b)
        init_linear(linear, generator)
        layers.append(linear)
        if final_activation or i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)
