"""What both sides of a horizontal round agree on without a message: who is sampled, the
layout of the summed vector, fixed-point widths, the int8 grid, the model's shape and its
start.

All of it follows from the public job spec (seed, parties, model) and round number, so
the aggregator and every party compute it alike, and a resumed program gets the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vfl.algorithms.horizontal.client_dp import ClientDp, calibrate
from vfl.algorithms.horizontal.public_grid import PublicGrid
from vfl.algorithms.horizontal.strategies import Strategy, StrategyParams, make_strategy
from vfl.algorithms.split.schedule import derive_seed
from vfl.config.job_spec import HorizontalJobSpec

UPDATE_BITS = 24
"""Fraction bits of a round's summed vector in Z/2^64: updates to 2^-24, sums to ±2^38."""
STATS_BITS = 10
"""Fraction bits of the feature-statistics sum (Σx² of raw features can be large)."""
EXTRA = 3
"""Values after the contribution vector: its weight, n·loss and n."""


def sample(spec: HorizontalJobSpec, round_index: int) -> list[str]:
    """The parties of round `round_index`: a fraction of all, at least min_parties, drawn
    from the job seed (public: who takes part is not secret, what they send is)."""
    names = sorted(p.name for p in spec.parties)
    count = max(spec.train.min_parties, round(spec.train.fraction * len(names)))
    count = min(count, len(names))
    rng = np.random.default_rng(derive_seed(spec.job.seed, "horizontal/sample", round_index))
    return sorted(rng.choice(names, size=count, replace=False).tolist())


def grid(spec: HorizontalJobSpec) -> PublicGrid | None:
    """The public int8 grid of secure int8 sums (None otherwise): ±int8_bound, 256 levels."""
    if not spec.train.secure_int8:
        return None
    assert spec.train.int8_bound is not None, "the spec requires int8_bound here"
    return PublicGrid(spec.train.int8_bound)


def outputs(spec: HorizontalJobSpec) -> int:
    classes = spec.model.classes or []
    return len(classes) if spec.model.task == "multiclass" else 1


def architecture(spec: HorizontalJobSpec) -> dict[str, object]:
    """What model.json records beside the flat vector so the model can be rebuilt without
    the job spec (vfl.export): hidden widths, output width, task and classes."""
    return {
        "layers": list(spec.model.layers),
        "outputs": outputs(spec),
        "task": spec.model.task,
        "classes": list(spec.model.classes or []),
    }


def strategy(spec: HorizontalJobSpec) -> Strategy:
    t = spec.train
    return make_strategy(
        t.strategy,
        StrategyParams(
            server_learning_rate=t.server_lr,
            momentum=t.server_momentum,
            beta_1=t.beta_1,
            beta_2=t.beta_2,
            tau=t.tau,
            q=t.q,
            local_learning_rate=t.learning_rate,
        ),
    )


@dataclass(frozen=True)
class DpPlan:
    """Client-level DP as this job runs it: the mechanism and the accounting inputs."""

    mechanism: ClientDp
    sampling: float
    rounds: int
    delta: float


def dp_plan(spec: HorizontalJobSpec) -> DpPlan | None:
    privacy = spec.privacy
    if not privacy.enabled:
        return None
    # Who takes part in a round follows from the public job seed, so the aggregator knows
    # it: no amplification by sampling may be claimed. Every round counts in full.
    sampling = 1.0
    rounds = spec.train.rounds
    z = privacy.noise_multiplier
    if z is None:
        assert privacy.client_dp_epsilon is not None
        z = calibrate(privacy.client_dp_epsilon, sampling, rounds, privacy.delta)
    expected = len(sample(spec, 0))
    return DpPlan(ClientDp(privacy.clip, z, expected), sampling, rounds, privacy.delta)
