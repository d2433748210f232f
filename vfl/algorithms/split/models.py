"""The parts of a split model, built the same way at every party from the job spec.

    feature holder p:  a_p = bottom_p(x_p)                          (B×d_p)
    label holder:      z   = Σ_p a_p·W_p + bottom_L(x_L)·W_L + b    (B×u, the interactive layer)
                       out = top(z)                                  (B×outputs)

split_nn: bottoms are MLPs ending in ReLU at `cut_width`; top = ReLU → MLP. The presets
(logistic / linear regression) use identity bottoms and top: out = Σ_p x_p·W_p + b.
"""

from __future__ import annotations

import torch
from torch import nn

from vfl.config.job_spec import VerticalJobSpec
from vfl.models.mlp import mlp


def is_preset(spec: VerticalJobSpec) -> bool:
    return spec.model.kind != "split_nn"


def bottom_width(spec: VerticalJobSpec, in_width: int) -> int:
    """The output width d of a bottom model over `in_width` columns."""
    return in_width if is_preset(spec) else spec.model.cut_width


def build_bottom(
    spec: VerticalJobSpec, in_width: int, generator: torch.Generator
) -> tuple[nn.Module, int]:
    """The party's bottom model and its output width d, initialised from `generator`
    (the party's own secret: initial_weights.py)."""
    if is_preset(spec):
        return nn.Identity(), in_width
    widths = [in_width, *spec.model.bottom_hidden, spec.model.cut_width]
    return mlp(widths, generator, final_activation=True), spec.model.cut_width


def interactive_width(spec: VerticalJobSpec, outputs: int) -> int:
    if is_preset(spec):
        return outputs
    return spec.model.interactive_width or spec.model.cut_width


def build_top(spec: VerticalJobSpec, u: int, outputs: int, generator: torch.Generator) -> nn.Module:
    if is_preset(spec):
        return nn.Identity()
    return nn.Sequential(nn.ReLU(), mlp([u, *spec.model.top_hidden, outputs], generator, False))


class InteractiveBlock(nn.Module):
    """One party's slice W_p (d_p×u) of the interactive layer, held by the label holder."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)

    @staticmethod
    def drawn(d: int, u: int, fan_in: int, generator: torch.Generator) -> InteractiveBlock:
        """Uniform ±1/√fan_in, like one Linear over the concatenated cut layer."""
        bound = 1.0 / max(fan_in, 1) ** 0.5
        return InteractiveBlock(torch.empty(d, u).uniform_(-bound, bound, generator=generator))

    @staticmethod
    def shared(d: int, u: int) -> InteractiveBlock:
        """A peer's slice, zero until its shares arrive (initial_weights.py)."""
        return InteractiveBlock(torch.zeros(d, u))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return a @ self.weight


def make_optimizer(spec: VerticalJobSpec, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    """The configured optimizer over `params`.

    Fused kernels update every parameter in one C++ call: the per-parameter Python loop
    of the default implementation would hold the GIL that the other parties' threads need
    in the simulator, and costs more than the arithmetic for models this small.
    """
    lr, wd = spec.train.learning_rate, spec.train.weight_decay
    if spec.train.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, fused=True)
    return torch.optim.SGD(
        params,
        lr=lr,
        momentum=spec.train.momentum,
        nesterov=spec.train.nesterov,
        weight_decay=wd,
        fused=True,
    )
