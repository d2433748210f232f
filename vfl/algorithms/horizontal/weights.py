"""The global model's parameters as one flat vector, made and read without torch.

The aggregator runs in the coordinator (numpy only) and starts the model; the parties'
torch models read the same vector (`local_training.load_flat`): per linear layer, the
weight (out × in, row-major) then the bias, in layer order, which is torch's
`parameters()` order for the MLP of `vfl.models.mlp`. The start is drawn like torch's
default init (uniform ±1/√fan_in) from the public job seed: every party receives it anyway.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from vfl.algorithms.horizontal.round_plan import outputs
from vfl.algorithms.horizontal.strategies import Vector
from vfl.algorithms.split.schedule import derive_seed
from vfl.config.job_spec import HorizontalJobSpec


def widths(spec: HorizontalJobSpec, features: int) -> list[int]:
    return [features, *spec.model.layers, outputs(spec)]


def initial_params(spec: HorizontalJobSpec, features: int) -> Vector:
    rng = np.random.default_rng(derive_seed(spec.job.seed, "horizontal/init"))
    parts = []
    for fan_in, fan_out in pairwise(widths(spec, features)):
        bound = 1.0 / np.sqrt(fan_in)
        parts.append(rng.uniform(-bound, bound, fan_out * fan_in))
        parts.append(rng.uniform(-bound, bound, fan_out))
    return np.concatenate(parts).astype(np.float64)
