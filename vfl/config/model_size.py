"""How big one party's part of a split model is, from the job spec alone.

A party approves a job before it holds the job's data in memory, so the estimate uses the
spec: the hidden and cut widths, and the party's input width when the spec lists its
`features` (otherwise the input layer is left out: a lower bound). Torch-free, so the
party policy (vfl/config/party_policy.py) can run anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from vfl.config.job_spec import VerticalJobSpec

BYTES_PER_PARAMETER = 16
"""A float32 weight, its gradient and Adam's two moments."""
ACTIVATION_COPIES = 3
"""Forward values, their gradients and one temporary, per unit of every layer."""


@dataclass(frozen=True)
class ModelSize:
    """Parameters of a party's part and a rough training-memory estimate."""

    parameters: int
    memory_mb: int

    @staticmethod
    def of(spec: VerticalJobSpec, party: str) -> ModelSize:
        m, p = spec.model, spec.party(party)
        if m.kind != "split_nn":  # presets: identity bottoms, one small linear layer at L
            widths = [len(p.features)] if p.features else []
            parameters = sum(widths)
        else:
            inputs = [len(p.features)] if p.features else []
            bottom = [*inputs, *m.bottom_hidden, m.cut_width]
            widths = list(bottom)
            parameters = _dense(bottom)
            if p.role == "label_holder":
                u = m.interactive_width or m.cut_width
                parameters += m.cut_width * len(spec.parties) * u + u  # interactive + bias
                top = [u, *m.top_hidden, 1]
                parameters += _dense(top)
                widths += top
        activations = spec.train.batch_size * sum(widths) * 4 * ACTIVATION_COPIES
        memory = parameters * BYTES_PER_PARAMETER + activations
        return ModelSize(parameters, -(-memory // (1 << 20)))


def _dense(widths: list[int]) -> int:
    """Weights and biases of Linear layers between consecutive widths."""
    return sum(a * b + b for a, b in pairwise(widths))
