"""Each server strategy against an oracle written element by element from the paper's
update rule, over several rounds of three parties' updates (the oracle shares no code).
The aggregator sees only sums, so the strategy is driven with summed contributions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vfl.algorithms.horizontal.strategies import StrategyParams, make_strategy
from vfl.config.horizontal_spec import StrategyName

ROUNDS, PARTIES, DIM = 4, 3, 5
PARAMS = StrategyParams(server_learning_rate=0.5, tau=1e-3, local_learning_rate=0.05)


def _rounds() -> list[list[tuple[list[float], int, float]]]:
    """Per round, per party: (update Δᵢ, samples nᵢ, loss before local training)."""
    rng = np.random.default_rng(7)
    return [
        [
            (list(rng.normal(0, 0.1, DIM)), int(rng.integers(10, 100)), float(rng.uniform(0.2, 2)))
            for _ in range(PARTIES)
        ]
        for _ in range(ROUNDS)
    ]


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _oracle(name: StrategyName, start: list[float]) -> list[float]:
    p = PARAMS
    x = list(start)
    m, v, vel = [0.0] * DIM, [0.0] * DIM, [0.0] * DIM
    for parties in _rounds():
        if name is StrategyName.QFEDAVG:
            lip = 1 / p.local_learning_rate
            num, den = [0.0] * DIM, 0.0
            for delta, _, loss in parties:
                dw = [lip * -d for d in delta]  # L (w_t - w_k)
                for j in range(DIM):
                    num[j] += loss**p.q * dw[j]
                den += p.q * loss ** (p.q - 1) * sum(d * d for d in dw) + lip * loss**p.q
            x = [x[j] - num[j] / den for j in range(DIM)]
            continue
        n = sum(s for _, s, _ in parties)
        mean = [sum(d[j] * s for d, s, _ in parties) / n for j in range(DIM)]
        for j in range(DIM):
            g = mean[j]
            if name in (StrategyName.FEDAVG, StrategyName.FEDPROX):
                x[j] += p.server_learning_rate * g
            elif name is StrategyName.FEDAVGM:
                vel[j] = p.momentum * vel[j] + g
                x[j] += p.server_learning_rate * vel[j]
            else:
                m[j] = p.beta_1 * m[j] + (1 - p.beta_1) * g
                if name is StrategyName.FEDADAGRAD:
                    v[j] = v[j] + g * g
                elif name is StrategyName.FEDADAM:
                    v[j] = p.beta_2 * v[j] + (1 - p.beta_2) * g * g
                else:
                    v[j] = v[j] - (1 - p.beta_2) * g * g * _sign(v[j] - g * g)
                x[j] += p.server_learning_rate * m[j] / (math.sqrt(v[j]) + p.tau)
    return x


@pytest.mark.parametrize("name", list(StrategyName))
def test_each_strategy_matches_its_paper_update_written_out(name: StrategyName) -> None:
    start = [0.3, -0.2, 0.0, 1.0, -1.5]
    strategy = make_strategy(name, PARAMS)
    x = np.array(start)
    for parties in _rounds():
        shares = [strategy.contribution(np.array(d), s, loss) for d, s, loss in parties]
        total = np.sum([c.vector for c in shares], axis=0)
        x = strategy.step(x, total, sum(c.weight for c in shares))
    assert x == pytest.approx(_oracle(name, start), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", [StrategyName.FEDAVGM, StrategyName.FEDADAM])
def test_optimizer_state_round_trips_so_a_resumed_aggregator_continues_alike(
    name: StrategyName,
) -> None:
    """Checkpoint after two rounds, restore into a fresh strategy: the same next step."""
    rounds = _rounds()
    strategy = make_strategy(name, PARAMS)
    x = np.zeros(DIM)
    for parties in rounds[:2]:
        shares = [strategy.contribution(np.array(d), s, f) for d, s, f in parties]
        total = np.sum([c.vector for c in shares], axis=0)
        x = strategy.step(x, total, sum(c.weight for c in shares))
    resumed = make_strategy(name, PARAMS)
    resumed.load_state(strategy.state())
    shares = [strategy.contribution(np.array(d), s, f) for d, s, f in rounds[2]]
    total, weight = np.sum([c.vector for c in shares], axis=0), sum(c.weight for c in shares)
    assert np.array_equal(strategy.step(x, total, weight), resumed.step(x, total, weight))
    assert (
        make_strategy(name, PARAMS).step(x, total, weight).tolist()
        != resumed.step(x, total, weight).tolist()
    )  # the control: without the state the step differs
