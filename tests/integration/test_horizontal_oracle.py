"""Horizontal jobs in the simulator against a plain one-process loop that implements the
same update: every strategy (plain sums: identical), secure aggregation (the same model to
fixed-point precision), secure int8 (the same model as the loop quantizing each party's
contribution on the public grid with the party's own coins), and a poisoning party
(FedAvg collapses, a robust rule holds).

The oracle shares the local step and the server step with the product (each checked on its
own: tests/unit/horizontal) and nothing of the federation: no channel, no messages, no
secure sum, sampling and scaling recomputed in the clear.
"""

from __future__ import annotations

import copy
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.algorithms.horizontal import round_plan, round_sum, sample_holder
from vfl.algorithms.horizontal.local_training import LocalConfig, build_model, train_local
from vfl.algorithms.horizontal.sample_holder import hash_seed
from vfl.algorithms.horizontal.weights import initial_params
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.api import simulate
from vfl.config.horizontal_spec import StrategyName
from vfl.config.job_spec import horizontal
from vfl.config.loading import load_job
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.runtime.party_secret import PartySecret

JOB_ID = "horizontal-oracle"


def _run(
    tmp: Path, spec: dict[str, Any], secrets_: dict[str, bytes], digest: bytes | None = None
) -> tuple[Any, np.ndarray]:
    tmp.mkdir(parents=True, exist_ok=True)
    path = write_toml(tmp / "job.toml", spec)
    result = simulate(
        path, workdir=tmp / "run", job_id=JOB_ID, party_secrets=secrets_, spec_digest=digest
    )
    assert result.status == "succeeded", result.error
    with np.load(tmp / "run" / "coordinator" / "model" / "weights.npz") as stored:
        return result, stored["params"].copy()


def _oracle(spec_path: Path, secrets_: dict[str, bytes], int8: bool = False) -> np.ndarray:
    """The plain loop; with `int8`, each contribution quantized on the job's public grid
    with the coins the party draws from its secret, and the levels summed in the clear."""
    spec = horizontal(load_job(spec_path))
    grid = round_plan.grid(spec) if int8 else None
    digest = job_digest(spec.model_dump_json())
    frames = {
        p.name: np.loadtxt(spec.base_dir / p.data, delimiter=",", skiprows=1) for p in spec.parties
    }
    names = sorted(frames)
    local = {}
    for name in names:
        rows = frames[name]
        schedule = BatchSchedule(
            len(rows),
            spec.train.batch_size,
            spec.train.validation_fraction,
            hash_seed(spec.job.seed, name),
        )
        features = rows[schedule.train_rows, :-1].astype(np.float32)  # as the loader reads
        local[name] = (features, rows[schedule.train_rows, -1])
    pooled = np.concatenate([x for x, _ in local.values()]).astype(np.float64)
    mean = pooled.sum(axis=0) / len(pooled)
    std = np.sqrt(np.maximum((pooled**2).sum(axis=0) / len(pooled) - mean**2, 0.0))
    strategy = round_plan.strategy(spec)
    params = initial_params(spec, pooled.shape[1])
    codec = LabelCodec("binary", (0.0, 1.0), 0.0, 1.0)
    mu = spec.train.proximal_mu if spec.train.strategy is StrategyName.FEDPROX else 0.0
    config = LocalConfig(
        spec.train.local_epochs,
        spec.train.batch_size,
        spec.train.learning_rate,
        spec.train.optimizer,
        mu,
    )
    for r in range(spec.train.rounds):
        total, weight = np.zeros_like(params), 0.0
        levels = np.zeros(params.size, dtype=np.int64)
        chosen = round_plan.sample(spec, r)
        for name in chosen:
            x, y = local[name]
            secret = PartySecret(secrets_[name], JOB_ID, name, digest)
            generator = torch.Generator().manual_seed(
                secret.derive("horizontal/batches", str(r)).bits(0, 63)
            )
            model = build_model(x.shape[1], spec.model.layers, 1, 0)
            xt = torch.from_numpy(((x - mean) / std).astype(np.float32))
            result = train_local(model, params, codec, xt, codec.encode(y), config, generator)
            share = strategy.contribution(result.delta, result.samples, result.loss_before)
            total, weight = total + share.vector, weight + share.weight
            if grid is not None:
                coins = secret.derive("horizontal/secagg", str(r)).generator()
                levels += grid.quantize(share.vector, coins)
        if grid is not None:
            total = grid.dequantize_sum(levels, len(chosen))
        params = strategy.step(params, total, weight)
    return params


def _secrets(spec: dict[str, Any]) -> dict[str, bytes]:
    names = [p["name"] for p in spec["parties"]] + ["coordinator"]
    return {n: secrets.token_bytes(32) for n in names}


@pytest.mark.parametrize("strategy", list(StrategyName))
def test_each_strategy_equals_the_plain_one_process_loop(
    strategy: StrategyName, tmp_path: Path
) -> None:
    paths = synthetic_horizontal(tmp_path / "data")
    spec = horizontal_dict(paths, train={"strategy": strategy.value, "secure_aggregation": False})
    keys = _secrets(spec)
    result, federated = _run(tmp_path, spec, keys)
    oracle = _oracle(tmp_path / "job.toml", keys)
    assert np.allclose(federated, oracle, rtol=1e-9, atol=1e-12)
    assert set(result.metrics) >= {"validation", "train", "validation@site-a"}


def test_secure_aggregation_gives_the_plain_model_to_fixed_point_precision(tmp_path: Path) -> None:
    paths = synthetic_horizontal(tmp_path / "data")
    plain_spec = horizontal_dict(paths, train={"secure_aggregation": False})
    keys = _secrets(plain_spec)
    same = b"\x01" * 32  # both runs draw the same batches (secrets bind the spec's digest)
    _, plain = _run(tmp_path / "plain", plain_spec, keys, same)
    secure_spec = copy.deepcopy(plain_spec)
    secure_spec["train"]["secure_aggregation"] = True
    result, secure = _run(tmp_path / "secure", secure_spec, keys, same)
    # each round's sum is exact to 2^-24 per coordinate; three rounds stay far below 1e-4
    assert np.abs(secure - plain).max() < 1e-4
    assert result.metrics["validation"]["auc"] > 0.6


def test_secure_int8_equals_the_loop_that_quantizes_each_party_alike(tmp_path: Path) -> None:
    """The federated run only ever unmasks Σ levels; the loop quantizes each contribution
    in the clear with the same coins and sums. Same model (to float rounding), and not the
    unquantized model: the check sees the quantization."""
    paths = synthetic_horizontal(tmp_path / "data")
    train = {"compression": "int8", "int8_bound": 16.0, "secure_aggregation": True}
    spec = horizontal_dict(paths, train=train)
    keys = _secrets(spec)
    result, federated = _run(tmp_path, spec, keys)
    oracle = _oracle(tmp_path / "job.toml", keys, int8=True)
    assert np.allclose(federated, oracle, rtol=1e-9, atol=1e-12)
    unquantized = _oracle(tmp_path / "job.toml", keys)
    assert not np.allclose(federated, unquantized, rtol=1e-9, atol=1e-12)
    assert np.abs(federated - unquantized).max() < 0.05  # within a few grid steps / n
    assert result.metrics["validation"]["auc"] > 0.6


def test_a_poisoning_party_ruins_fedavg_and_a_robust_rule_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """site-e sends its contribution scaled by −20 each round (the attack, over the real
    messages). FedAvg's validation AUC collapses; the coordinate median keeps what it
    reaches without the attack."""
    paths = synthetic_horizontal(tmp_path / "data", parties=5)
    real_sum = round_sum.party_sum

    def poisoned(ctx: Any, parties: Any, vector: np.ndarray, *rest: Any) -> None:
        if ctx.party == "site-e":
            vector = vector.copy()
            vector[:-3] *= -20.0
        real_sum(ctx, parties, vector, *rest)

    keys = _secrets(horizontal_dict(paths))
    same = b"\x02" * 32  # every run draws the same batches

    def auc(name: str, robust: str | None, attack: bool) -> float:
        train: dict[str, Any] = {"secure_aggregation": False, "rounds": 5, "local_epochs": 3}
        if robust:
            train.update(robust=robust, trim=0.2)
        spec = horizontal_dict(paths, train=train)
        with monkeypatch.context() as patch:
            if attack:
                patch.setattr(sample_holder, "party_sum", poisoned)
            result, _ = _run(tmp_path / name, spec, keys, same)
        return float(result.metrics["validation"]["auc"])

    clean = auc("clean", None, False)
    attacked = auc("fedavg", None, True)
    assert clean > 0.75 and attacked < 0.6  # FedAvg collapses
    for rule in ("trimmed_mean", "median"):
        held = auc(rule, rule, True)
        print(f"{rule}: {held:.3f} under attack (FedAvg {attacked:.3f}, no attack {clean:.3f})")
        assert held > clean - 0.15 and held > attacked + 0.15
