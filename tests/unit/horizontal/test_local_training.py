"""Local training: one party under FedAvg (η = 1) is exactly centralized training, the
FedProx term keeps the update closer to the global model, and parameters round-trip."""

from __future__ import annotations

import numpy as np
import torch

from vfl.algorithms.horizontal.local_training import (
    LocalConfig,
    build_model,
    flatten,
    load_flat,
    train_local,
)
from vfl.algorithms.horizontal.strategies import FedAvg
from vfl.algorithms.split.preprocess import LabelCodec


def _data(rows: int = 200) -> tuple[torch.Tensor, torch.Tensor, LabelCodec]:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (rows, 6)).astype(np.float32)
    labels = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float64)
    codec = LabelCodec.fit("binary", labels, np.arange(rows), "test", standardize=False)
    return torch.from_numpy(x), codec.encode(labels), codec


def test_parameters_round_trip_through_the_flat_vector() -> None:
    model = build_model(6, [8], 1, seed=1)
    vector = flatten(model)
    other = build_model(6, [8], 1, seed=2)
    load_flat(other, vector)
    assert np.array_equal(flatten(other), vector)


def test_one_party_fedavg_rounds_equal_centralized_training() -> None:
    x, y, codec = _data()
    config = LocalConfig(epochs=2, batch_size=32, learning_rate=0.1)
    federated = build_model(6, [8], 1, seed=3)
    params = flatten(federated)
    generator = torch.Generator().manual_seed(9)
    for _ in range(3):
        result = train_local(federated, params, codec, x, y, config, generator)
        params = FedAvg().step(params, result.delta * result.samples, result.samples)

    central = build_model(6, [8], 1, seed=3)
    optimizer = torch.optim.SGD(central.parameters(), lr=0.1)
    generator = torch.Generator().manual_seed(9)
    for _ in range(3 * 2):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 32):
            rows = order[start : start + 32]
            optimizer.zero_grad()
            codec.loss(central(x[rows]), y[rows]).backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    assert np.allclose(params, flatten(central), atol=1e-6)


def test_the_proximal_term_keeps_the_update_nearer_the_global_model() -> None:
    x, y, codec = _data()
    start = flatten(build_model(6, [8], 1, seed=4))
    sizes = []
    for mu in (0.0, 10.0):
        model = build_model(6, [8], 1, seed=4)
        config = LocalConfig(epochs=3, batch_size=32, learning_rate=0.1, proximal_mu=mu)
        result = train_local(model, start, codec, x, y, config, torch.Generator().manual_seed(1))
        sizes.append(float(np.linalg.norm(result.delta)))
    assert sizes[1] < 0.5 * sizes[0]
