"""Client-level differential privacy for horizontal rounds: clip each party's update,
add Gaussian noise, and account ε with dp-accounting (never our own accountant).

Mechanism (DP-FedAvg, McMahan et al. 2018): each round, every sampled party clips its
update Δᵢ to L2 norm C. The aggregate Σ clip(Δᵢ) has sensitivity C under add/remove-one-
party adjacency, and Gaussian noise of std z·C makes the round a Gaussian mechanism with
noise multiplier z. T rounds compose: dp-accounting's RDP accountant takes
`GaussianDpEvent(z)` T times and reports ε at δ. (With secret Poisson sampling at rate q
the event would be `PoissonSampledDpEvent(q, ...)`, which `epsilon` supports; vfl samples a
round's parties from the public job seed, so it claims no amplification: sampling = 1.)

With secure aggregation the aggregator never sees one update, so nobody can add the noise
centrally: each of the n expected parties adds N(0, (z·C)²/n) to its own clipped update
(distributed DP), and the sum of n such noises carries exactly the calibrated N(0, (z·C)²).
A round with dropouts carries less noise: with m < n survivors the sum holds variance
(z·C)²·m/n, i.e. noise multiplier z·√(m/n); the ε reported uses the worst round's
multiplier, so it never under-reports (`epsilon(..., survivors=...)`).

What ε covers: one party's whole dataset (client-level) against whoever sees the
aggregates (the coordinator, and every party through the global model). It does not cover
a party's own view of its data, nor metrics reported outside the mechanism.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vfl.algorithms.horizontal.strategies import Vector


def clip(update: Vector, bound: float) -> Vector:
    """The update scaled to L2 norm at most `bound`."""
    norm = float(np.linalg.norm(update))
    return update if norm <= bound else update * (bound / norm)


@dataclass(frozen=True)
class ClientDp:
    """Clip bound C, noise multiplier z and how the noise is split across parties."""

    clip: float
    noise_multiplier: float
    expected_parties: int
    """n: the parties expected in a round; each adds 1/n of the noise variance under
    secure aggregation (distributed), or the aggregator adds it all (central)."""

    def party_noise_std(self) -> float:
        return self.noise_multiplier * self.clip / math.sqrt(self.expected_parties)

    def central_noise_std(self) -> float:
        return self.noise_multiplier * self.clip

    def privatize(self, update: Vector, rng: np.random.Generator, distributed: bool) -> Vector:
        """A party's clipped update, with its share of the noise if distributed."""
        clipped = clip(update, self.clip)
        if not distributed:
            return clipped
        return clipped + rng.normal(0.0, self.party_noise_std(), update.shape)


def epsilon(
    noise_multiplier: float,
    sampling: float,
    rounds: int,
    delta: float,
    survivors: float = 1.0,
) -> float:
    """ε after `rounds` rounds at sampling rate q; `survivors` is the smallest fraction m/n
    of the expected parties whose noise reached a round's sum (1.0 without dropouts)."""
    # imported on first use: dp_accounting pulls in scipy.signal, ~1.5 s at every start of
    # a party node or coordinator, which import this module whether or not a job uses DP
    import dp_accounting  # noqa: PLC0415
    from dp_accounting.rdp import RdpAccountant  # noqa: PLC0415

    add_remove = dp_accounting.NeighboringRelation.ADD_OR_REMOVE_ONE
    effective = noise_multiplier * math.sqrt(min(1.0, max(survivors, 1e-12)))
    gaussian = dp_accounting.GaussianDpEvent(effective)
    event = gaussian if sampling >= 1.0 else dp_accounting.PoissonSampledDpEvent(sampling, gaussian)
    accountant = RdpAccountant(neighboring_relation=add_remove)
    accountant.compose(dp_accounting.SelfComposedDpEvent(event, rounds))
    return float(accountant.get_epsilon(delta))


def calibrate(target: float, sampling: float, rounds: int, delta: float) -> float:
    """The smallest noise multiplier (to 1%) whose ε over `rounds` stays within `target`."""
    low, high = 0.05, 1.0
    while epsilon(high, sampling, rounds, delta) > target:
        low, high = high, high * 2
        if high > 1e4:
            raise ValueError(f"no noise multiplier reaches ε = {target}; raise it")
    while high - low > 0.01 * high:
        middle = (low + high) / 2
        if epsilon(middle, sampling, rounds, delta) > target:
            low = middle
        else:
            high = middle
    return high
