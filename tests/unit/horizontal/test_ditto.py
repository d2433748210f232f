"""Ditto's personal model on its own: its local solver is gradient descent on f(v) + λ/2‖v − w‖²
written out by hand, large λ holds it at the global model, and a party restored from its
round checkpoint continues it exactly as a party that never stopped."""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import torch

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.algorithms.horizontal.ditto import STATE_KEY, DittoModel, personal_model, personal_step
from vfl.algorithms.horizontal.local_training import LocalConfig, build_model, flatten
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.config.job_spec import horizontal
from vfl.config.loading import load_job
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.workspace import Workspace


def _data(rows: int = 120) -> tuple[torch.Tensor, torch.Tensor, LabelCodec]:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (rows, 4)).astype(np.float32)
    labels = (x[:, 0] - x[:, 2] + rng.normal(0, 0.5, rows) > 0).astype(np.float64)
    codec = LabelCodec.fit("binary", labels, np.arange(rows), "test", standardize=False)
    return torch.from_numpy(x), codec.encode(labels), codec


def test_the_personal_step_is_gradient_descent_on_the_loss_plus_the_pull_to_the_global_model() -> (
    None
):
    x, y, codec = _data()
    lam, lr, steps = 2.0, 0.1, 3
    rng = np.random.default_rng(2)
    personal, global_params = rng.normal(0, 0.5, 5), rng.normal(0, 0.5, 5)
    model = build_model(4, [], 1, seed=0)  # logistic regression: weights then bias
    config = LocalConfig(steps, len(x), lr, proximal_mu=lam)  # full batch: one step an epoch
    got = personal_step(
        model, personal, global_params, codec, x, y, config, torch.Generator().manual_seed(0)
    )
    features, target = x.double().numpy(), y.double().numpy().ravel()
    v = personal.copy()
    for _ in range(steps):
        residual = 1 / (1 + np.exp(-(features @ v[:4] + v[4]))) - target
        gradient = np.concatenate([features.T @ residual, [residual.sum()]]) / len(target)
        v = v - lr * (gradient + lam * (v - global_params))
    assert np.allclose(got, v, atol=1e-5)


def test_a_large_lambda_holds_the_personal_model_at_the_global_one() -> None:
    x, y, codec = _data()
    start = flatten(build_model(4, [6], 1, seed=3))
    global_params = flatten(build_model(4, [6], 1, seed=4))
    distances = []
    for lam in (0.01, 1.0, 9.0):
        config = LocalConfig(3, 16, 0.1, proximal_mu=lam)
        model = build_model(4, [6], 1, seed=0)
        v = personal_step(
            model, start, global_params, codec, x, y, config, torch.Generator().manual_seed(5)
        )
        distances.append(float(np.linalg.norm(v - global_params)))
    assert distances[0] > distances[1] > distances[2]
    assert distances[2] < 0.1 * distances[0]


def test_a_party_restored_from_its_round_checkpoint_continues_its_personal_model_exactly(
    tmp_path: Path,
) -> None:
    paths = synthetic_horizontal(tmp_path / "data", parties=2)
    spec_dict = horizontal_dict(paths, train={"personalization": "ditto", "ditto_lambda": 0.5})
    spec = horizontal(load_job(write_toml(tmp_path / "job.toml", spec_dict)))
    x, y, codec = _data()
    secret = PartySecret(secrets.token_bytes(32), "job", "site-a", b"\x03" * 32)
    config = LocalConfig(2, 32, 0.1)
    rng = np.random.default_rng(6)
    globals_ = [rng.normal(0, 0.3, 4 * 6 + 6 + 6 + 1) for _ in range(4)]
    template = build_model(4, [6], 1, seed=0)

    def rounds(party: DittoModel, which: range) -> None:
        for r in which:
            party.round(secret, str(r), globals_[r], x, y)

    straight = personal_model(spec, template, codec, config)
    assert isinstance(straight, DittoModel)
    rounds(straight, range(4))

    first = personal_model(spec, template, codec, config)
    assert isinstance(first, DittoModel) and first.state() == {}  # nothing before a model
    rounds(first, range(2))
    workspace = Workspace(tmp_path / "site-a")
    workspace.save_arrays("sample_holder", {"round": np.array(1), **first.state()})
    saved = workspace.load_arrays("sample_holder")
    assert saved is not None and first.personal is not None
    assert np.array_equal(saved[STATE_KEY], first.personal)
    resumed = personal_model(spec, build_model(4, [6], 1, seed=9), codec, config)
    assert isinstance(resumed, DittoModel)
    resumed.load_state(saved)
    rounds(resumed, range(2, 4))
    assert straight.personal is not None and resumed.personal is not None
    assert np.array_equal(resumed.personal, straight.personal)
    # and the check has teeth: a party that lost v (restarted from the global model) differs
    fresh = personal_model(spec, template, codec, config)
    assert isinstance(fresh, DittoModel)
    rounds(fresh, range(2, 4))
    assert fresh.personal is not None
    assert not np.allclose(fresh.personal, straight.personal)


def test_a_party_never_sampled_keeps_the_final_global_model_as_its_personal_one(
    tmp_path: Path,
) -> None:
    _, _, codec = _data()
    workspace = Workspace(tmp_path / "site-c")
    final = np.arange(5, dtype=np.float64)
    workspace.save_model({"params": torch.from_numpy(final)}, {"mode": "horizontal"})
    DittoModel(build_model(4, [], 1, seed=0), codec, LocalConfig(1, 8, 0.1), None).keep(
        workspace, final
    )
    state, meta = workspace.load_model()
    assert torch.equal(state["personal_params"], state["params"]) and meta["personalized"]
