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

from vfl.algorithms.split.schedule import derive_seed
from vfl.config.job_spec import JobSpec
from vfl.models.mlp import init_linear, mlp, seeded


def is_preset(spec: JobSpec) -> bool:
    return spec.model.kind != "split_nn"


def build_bottom(spec: JobSpec, party: str, in_width: int) -> tuple[nn.Module, int]:
    """The party's bottom model and its output width d."""
    if is_preset(spec):
        return nn.Identity(), in_width
    widths = [in_width, *spec.model.bottom_hidden, spec.model.cut_width]
    generator = seeded(derive_seed(spec.job.seed, "bottom", party))
    return mlp(widths, generator, final_activation=True), spec.model.cut_width


def interactive_width(spec: JobSpec, outputs: int) -> int:
    if is_preset(spec):
        return outputs
    return spec.model.interactive_width or spec.model.cut_width


def build_top(spec: JobSpec, u: int, outputs: int) -> nn.Module:
    if is_preset(spec):
        return nn.Identity()
    generator = seeded(derive_seed(spec.job.seed, "top"))
    return nn.Sequential(nn.ReLU(), mlp([u, *spec.model.top_hidden, outputs], generator, False))


class InteractiveBlock(nn.Module):
    """One party's slice W_p (d_p×u) of the interactive layer, held by the label holder.

    Each slice draws ±1/√(Σ d) like one Linear over the concatenated cut layer would.
    """

    def __init__(self, d: int, u: int, fan_in: int, generator: torch.Generator) -> None:
        super().__init__()
        linear = nn.Linear(d, u, bias=False)
        init_linear(linear, generator, fan_in=fan_in)
        self.weight = nn.Parameter(linear.weight.detach().t().contiguous())

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return a @ self.weight


def interactive_generator(spec: JobSpec, party: str) -> torch.Generator:
    return seeded(derive_seed(spec.job.seed, "interactive", party))


def make_optimizer(spec: JobSpec, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    """The configured optimizer over `params`.

    Fused kernels update every parameter in one C++ call: the per-parameter Python loop
    of the default implementation would hold the GIL that the other parties' threads need
    in the simulator, and costs more than the arithmetic for models this small.
    """
    lr, wd = spec.train.learning_rate, spec.train.weight_decay
    if spec.train.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, fused=True)
    return torch.optim.SGD(params, lr=lr, weight_decay=wd, fused=True)
