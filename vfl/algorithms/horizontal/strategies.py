"""The FedAvg family's server step, on flat float64 parameter vectors (numpy only, so the
coordinator can run it without torch).

Every strategy here needs only *sums* over the round's parties, which is what secure
aggregation reveals: a party contributes a `Contribution` (a vector and a scalar weight),
the aggregator adds them up, and `Strategy.step` turns (current parameters, summed vector,
summed weight) into the next parameters. For the FedAvg family the vector is the party's
update weighted by its sample count, Δᵢ·nᵢ, and the weight nᵢ, so vector / weight is the
sample-weighted mean update Δ. Then, with server learning rate η (Reddi et al. 2021,
"Adaptive Federated Optimization", Algorithm 2; Hsu et al. 2019 for momentum):

    fedavg, fedprox  x ← x + η·Δ                     (FedProx differs at the party: μ)
    fedavgm          v ← β·v + Δ;             x ← x + η·v
    fedadagrad       m ← β₁m + (1−β₁)Δ;  v ← v + Δ²;                       x ← x + η·m/(√v + τ)
    fedadam          m ← β₁m + (1−β₁)Δ;  v ← β₂v + (1−β₂)Δ²;               x ← x + η·m/(√v + τ)
    fedyogi          m ← β₁m + (1−β₁)Δ;  v ← v − (1−β₂)Δ²·sign(v − Δ²);    x ← x + η·m/(√v + τ)

q-FedAvg (Li et al. 2020, "Fair Resource Allocation in Federated Learning", Algorithm 2)
sends something else: with L = 1/(local learning rate), Fᵢ the party's loss at x before
local training and Δwᵢ = L·(x − xᵢ) = −L·Δᵢ, the vector is Fᵢ^q·Δwᵢ and the weight
hᵢ = q·Fᵢ^(q−1)·‖Δwᵢ‖² + L·Fᵢ^q; the step is x ← x − Σvector / Σweight.

The optimizer state (m, v) lives in the aggregator and is checkpointed with the round.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from vfl.config.horizontal_spec import StrategyName

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class StrategyParams:
    """The server-side knobs; defaults follow the papers' (and Flower's) usual settings."""

    server_learning_rate: float = 1.0
    """η: 1.0 for FedAvg/FedAvgM/FedProx; the adaptive ones usually want 0.01–0.1."""
    momentum: float = 0.9
    """β of FedAvgM."""
    beta_1: float = 0.9
    beta_2: float = 0.99
    tau: float = 1e-3
    """τ, the adaptive strategies' degree of adaptivity (Reddi et al.: 1e-3 works well)."""
    q: float = 0.2
    """q of q-FedAvg: 0 is FedAvg-like, larger q weights worse-off parties more."""
    local_learning_rate: float = 0.1
    """The parties' learning rate; q-FedAvg's Lipschitz estimate is its inverse."""


@dataclass(frozen=True)
class Contribution:
    """What one party adds to the round's sums: a vector and a scalar weight."""

    vector: Vector
    weight: float


@dataclass
class Strategy(ABC):
    """A server step from summed contributions; `contribution` is the party side."""

    params: StrategyParams = field(default_factory=StrategyParams)

    def contribution(self, delta: Vector, samples: int, loss_before: float) -> Contribution:
        """A party's share of the sums: its update Δ = x_local − x, weighted by samples."""
        return Contribution(delta * float(samples), float(samples))

    @abstractmethod
    def step(self, params: Vector, total: Vector, weight: float) -> Vector:
        """The next global parameters from the round's summed vector and weight."""

    def state(self) -> dict[str, Vector]:
        """Optimizer state to checkpoint with the round (empty for stateless strategies)."""
        return {}

    def load_state(self, state: dict[str, Vector]) -> None:  # noqa: B027 (stateless default)
        """Restore what `state` returned."""


@dataclass
class FedAvg(Strategy):
    """x ← x + η·Δ, Δ the sample-weighted mean update (McMahan et al. 2017)."""

    def step(self, params: Vector, total: Vector, weight: float) -> Vector:
        return params + self.params.server_learning_rate * (total / weight)


@dataclass
class FedAvgM(Strategy):
    """FedAvg with server momentum (Hsu et al. 2019): v ← β·v + Δ, x ← x + η·v."""

    velocity: Vector | None = None

    def step(self, params: Vector, total: Vector, weight: float) -> Vector:
        delta = total / weight
        previous = self.velocity if self.velocity is not None else np.zeros_like(delta)
        self.velocity = self.params.momentum * previous + delta
        return params + self.params.server_learning_rate * self.velocity

    def state(self) -> dict[str, Vector]:
        return {} if self.velocity is None else {"velocity": self.velocity}

    def load_state(self, state: dict[str, Vector]) -> None:
        self.velocity = state.get("velocity")


@dataclass
class _Adaptive(Strategy):
    """The shared shape of FedAdagrad, FedAdam and FedYogi; they differ in v's update."""

    first: Vector | None = None
    second: Vector | None = None

    @abstractmethod
    def _second(self, previous: Vector, delta: Vector) -> Vector: ...

    def step(self, params: Vector, total: Vector, weight: float) -> Vector:
        p = self.params
        delta = total / weight
        m = self.first if self.first is not None else np.zeros_like(delta)
        v = self.second if self.second is not None else np.zeros_like(delta)
        self.first = p.beta_1 * m + (1 - p.beta_1) * delta
        self.second = self._second(v, delta)
        return params + p.server_learning_rate * self.first / (np.sqrt(self.second) + p.tau)

    def state(self) -> dict[str, Vector]:
        if self.first is None or self.second is None:
            return {}
        return {"first": self.first, "second": self.second}

    def load_state(self, state: dict[str, Vector]) -> None:
        self.first, self.second = state.get("first"), state.get("second")


@dataclass
class FedAdagrad(_Adaptive):
    """Adaptive server step with v ← v + Δ² (Reddi et al. 2021)."""

    def _second(self, previous: Vector, delta: Vector) -> Vector:
        return previous + delta**2


@dataclass
class FedAdam(_Adaptive):
    """Adaptive server step with v ← β₂v + (1−β₂)Δ² (Reddi et al. 2021)."""

    def _second(self, previous: Vector, delta: Vector) -> Vector:
        return self.params.beta_2 * previous + (1 - self.params.beta_2) * delta**2


@dataclass
class FedYogi(_Adaptive):
    """Adaptive server step with v ← v − (1−β₂)Δ²·sign(v − Δ²) (Reddi et al. 2021)."""

    def _second(self, previous: Vector, delta: Vector) -> Vector:
        squared = delta**2
        return previous - (1 - self.params.beta_2) * squared * np.sign(previous - squared)


@dataclass
class QFedAvg(Strategy):
    """q-FedAvg (Li et al. 2020): parties with a higher loss weigh more, by Fᵢ^q."""

    def contribution(self, delta: Vector, samples: int, loss_before: float) -> Contribution:
        p = self.params
        lipschitz = 1.0 / p.local_learning_rate
        loss = max(float(loss_before), 1e-10)  # F^(q-1) needs F > 0
        step = -lipschitz * delta  # Δw = L·(x − x_local)
        vector = loss**p.q * step
        weight = p.q * loss ** (p.q - 1) * float(step @ step) + lipschitz * loss**p.q
        return Contribution(vector, weight)

    def step(self, params: Vector, total: Vector, weight: float) -> Vector:
        return params - total / weight


_STRATEGIES: dict[StrategyName, type[Strategy]] = {
    StrategyName.FEDAVG: FedAvg,
    StrategyName.FEDPROX: FedAvg,  # the proximal term μ acts in the parties' local training
    StrategyName.FEDAVGM: FedAvgM,
    StrategyName.FEDADAGRAD: FedAdagrad,
    StrategyName.FEDADAM: FedAdam,
    StrategyName.FEDYOGI: FedYogi,
    StrategyName.QFEDAVG: QFedAvg,
}


def make_strategy(name: StrategyName, params: StrategyParams | None = None) -> Strategy:
    """The strategy named in the job spec, with its server-side parameters."""
    return _STRATEGIES[name](params or StrategyParams())
