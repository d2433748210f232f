"""Ditto in whole horizontal jobs: against a plain one-process loop (FedAvg plus every
party's personal steps) in the clear and under secure aggregation, and on label-skewed
parties, where the personal models beat the global one and λ pulls them back to it; and a
job stopped mid-training that, run again, continues every personal model from its
checkpoint.

The oracle shares the two local solvers with the product (`train_local`,
`ditto.personal_step`: each checked on its own in tests/unit/horizontal) and nothing of the
federation: no channel, no messages, no secure sum, sampling and scaling recomputed in the
clear, and each personal model kept in a plain dict.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from parties.data.dirichlet_split import dirichlet_split
from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.algorithms.horizontal import round_plan
from vfl.algorithms.horizontal.ditto import STATE_KEY, personal_step
from vfl.algorithms.horizontal.local_training import LocalConfig, build_model, train_local
from vfl.algorithms.horizontal.sample_holder import CHECKPOINT, hash_seed
from vfl.algorithms.horizontal.weights import initial_params
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.split.schedule import BatchSchedule
from vfl.api import simulate
from vfl.config.job_spec import HorizontalJobSpec, horizontal
from vfl.config.loading import load_job
from vfl.errors import ProtocolError
from vfl.result import JobResult
from vfl.runtime.party_secret import PartySecret

JOB_ID = "horizontal-ditto"
DIGEST = b"\x04" * 32
"""Every run and the oracle draw the same batches (secrets bind the spec's digest)."""


class _Run:
    """A finished simulated job: its result, the global model and each personal model."""

    def __init__(self, folder: Path, spec: dict[str, Any], secrets_: dict[str, bytes]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.spec_path = write_toml(folder / "job.toml", spec)
        self.run = folder / "run"
        self.result: JobResult = simulate(
            self.spec_path,
            workdir=self.run,
            job_id=JOB_ID,
            party_secrets=secrets_,
            spec_digest=DIGEST,
        )
        assert self.result.status == "succeeded", self.result.error
        parties = [p["name"] for p in spec["parties"]]
        with np.load(self.run / "coordinator" / "model" / "weights.npz") as stored:
            self.global_params = stored["params"].copy()
        self.personal = {p: self._model(p)["personal_params"].numpy() for p in parties}

    def _model(self, party: str) -> dict[str, torch.Tensor]:
        path = self.run / party / "model" / "weights.pt"
        state: dict[str, torch.Tensor] = torch.load(path, weights_only=True)
        return state

    def distance(self, party: str) -> float:
        """‖v − w‖ of `party`'s personal model to the final global model."""
        state = self._model(party)
        return float(torch.linalg.vector_norm(state["personal_params"] - state["params"]))


def _secrets(names: list[str]) -> dict[str, bytes]:
    return {n: bytes([i + 1]) * 32 for i, n in enumerate([*names, "coordinator"])}


def _scaled_training_rows(
    spec: HorizontalJobSpec,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each party's training rows, standardized with the pooled mean and scale."""
    local = {}
    for party in spec.parties:
        rows = np.loadtxt(spec.base_dir / party.data, delimiter=",", skiprows=1)
        schedule = BatchSchedule(
            len(rows),
            spec.train.batch_size,
            spec.train.validation_fraction,
            hash_seed(spec.job.seed, party.name),
        )
        features = rows[schedule.train_rows, :-1].astype(np.float32)  # as the loader reads
        local[party.name] = (features, rows[schedule.train_rows, -1])
    pooled = np.concatenate([x for x, _ in local.values()]).astype(np.float64)
    mean = pooled.sum(axis=0) / len(pooled)
    std = np.sqrt(np.maximum((pooled**2).sum(axis=0) / len(pooled) - mean**2, 0.0))
    return {n: (((x - mean) / std).astype(np.float32), y) for n, (x, y) in local.items()}


def _generator(secret: PartySecret, label: str, round_index: int) -> torch.Generator:
    return torch.Generator().manual_seed(secret.derive(label, str(round_index)).bits(0, 63))


def _oracle(
    spec_path: Path, secrets_: dict[str, bytes]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """FedAvg rounds in one loop; every sampled party also steps its own v towards the
    round's global model, v starting from the first global model it receives."""
    spec = horizontal(load_job(spec_path))
    local = _scaled_training_rows(spec)
    width = next(iter(local.values()))[0].shape[1]
    strategy = round_plan.strategy(spec)
    params = initial_params(spec, width)
    codec = LabelCodec("binary", (0.0, 1.0), 0.0, 1.0)
    t = spec.train
    config = LocalConfig(t.local_epochs, t.batch_size, t.learning_rate, t.optimizer)
    ditto = LocalConfig(t.local_epochs, t.batch_size, t.learning_rate, t.optimizer, t.ditto_lambda)
    personal: dict[str, np.ndarray] = {}
    for r in range(t.rounds):
        total, weight = np.zeros_like(params), 0.0
        for name in round_plan.sample(spec, r):
            x, labels = local[name]
            xt, yt = torch.from_numpy(x), codec.encode(labels)
            secret = PartySecret(secrets_[name], JOB_ID, name, DIGEST)
            model = build_model(width, spec.model.layers, 1, 0)
            result = train_local(
                model, params, codec, xt, yt, config, _generator(secret, "horizontal/batches", r)
            )
            share = strategy.contribution(result.delta, result.samples, result.loss_before)
            total, weight = total + share.vector, weight + share.weight
            start = personal.get(name, params)
            personal[name] = personal_step(
                model,
                start,
                params,
                codec,
                xt,
                yt,
                ditto,
                _generator(secret, "horizontal/ditto-batches", r),
            )
        params = strategy.step(params, total, weight)
    return params, {n: personal.get(n, params) for n in local}


def test_ditto_equals_the_plain_loop_in_the_clear_and_under_secure_aggregation(
    tmp_path: Path,
) -> None:
    """Four parties, two sampled a round: site-b first trains in round 1, site-c only in
    round 2, site-a in rounds 0 and 3 (the sampling of job seed 5)."""
    paths = synthetic_horizontal(tmp_path / "data", parties=4)
    train = {"personalization": "ditto", "ditto_lambda": 0.5, "fraction": 0.5, "rounds": 4}
    spec = horizontal_dict(paths, train={**train, "secure_aggregation": False})
    keys = _secrets(list(paths))
    plain = _Run(tmp_path / "plain", spec, keys)
    global_params, personal = _oracle(plain.spec_path, keys)
    assert np.allclose(plain.global_params, global_params, rtol=1e-9, atol=1e-12)
    for party, expected in personal.items():
        assert np.allclose(plain.personal[party], expected, rtol=1e-9, atol=1e-12), party
        assert not np.allclose(expected, global_params)  # a model of its own
        # the round checkpoint holds the same v, which a resumed party continues from
        with np.load(plain.run / party / "checkpoints" / f"{CHECKPOINT}.npz") as saved:
            assert np.array_equal(saved[STATE_KEY], plain.personal[party])
    for split in ("validation", "train"):
        assert {split, f"{split}/personal", f"{split}@site-a/personal"} <= set(plain.result.metrics)

    secure_spec = copy.deepcopy(spec)
    secure_spec["train"]["secure_aggregation"] = True
    secure = _Run(tmp_path / "secure", secure_spec, keys)
    # each round's sum is exact to 2^-24 per coordinate; four rounds stay far below 1e-4
    assert np.abs(secure.global_params - global_params).max() < 1e-4
    for party, expected in personal.items():
        assert np.abs(secure.personal[party] - expected).max() < 1e-4, party


def _label_skewed(folder: Path, parties: int = 4, rows: int = 1200) -> dict[str, Path]:
    """One noisy linear rule, rows split among parties by Dirichlet(0.5) over the label:
    most parties hold mostly one class."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (rows, 5))
    frame = pd.DataFrame(x, columns=[f"f{j}" for j in range(5)])
    frame["y"] = (x @ rng.normal(0, 1, 5) + rng.normal(0, 1.5, rows) > 0).astype(int)
    out = {}
    for i, part in enumerate(dirichlet_split(frame, "y", parties, 0.5, seed=0, min_rows=60)):
        out[f"site-{chr(ord('a') + i)}"] = folder / f"site-{chr(ord('a') + i)}.csv"
        part.to_csv(out[f"site-{chr(ord('a') + i)}"], index=False)
    return out


@pytest.fixture(scope="module")
def skewed_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[float, _Run]:
    """The same label-skewed job with a small and a large λ (secure aggregation on)."""
    tmp = tmp_path_factory.mktemp("skewed")
    paths = _label_skewed(tmp / "data")
    runs = {}
    for lam in (0.1, 10.0):
        train = {"personalization": "ditto", "ditto_lambda": lam, "rounds": 5, "local_epochs": 2}
        runs[lam] = _Run(
            tmp / f"lambda-{lam}", horizontal_dict(paths, train=train), _secrets(list(paths))
        )
    return runs


def test_with_label_skew_each_partys_personal_model_beats_the_global_one_on_average(
    skewed_runs: dict[float, _Run],
) -> None:
    run = skewed_runs[0.1]
    metrics, parties = run.result.metrics, sorted(run.personal)

    def mean(metric: str, suffix: str) -> float:
        return float(np.mean([metrics[f"validation@{p}{suffix}"][metric] for p in parties]))

    for metric in ("log_loss", "accuracy"):
        print(f"{metric}: global {mean(metric, ''):.3f}, personal {mean(metric, '/personal'):.3f}")
    assert mean("log_loss", "/personal") < 0.8 * mean("log_loss", "")
    assert mean("accuracy", "/personal") > mean("accuracy", "") + 0.05
    weighted, personal = metrics["validation"], metrics["validation/personal"]
    assert personal["log_loss"] < weighted["log_loss"]


def test_a_larger_lambda_keeps_every_personal_model_nearer_the_global_one(
    skewed_runs: dict[float, _Run],
) -> None:
    near, far = skewed_runs[10.0], skewed_runs[0.1]
    for party in far.personal:
        small, large = far.distance(party), near.distance(party)
        print(f"{party}: ‖v − w‖ {small:.3f} at λ = 0.1, {large:.3f} at λ = 10")
        assert large < 0.5 * small, party


def test_a_job_stopped_mid_training_and_run_again_continues_every_personal_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coordinator fails at the start of round 2; running the job again in the same
    workdir resumes every program from its checkpoint (each party's v included) and ends
    with the models of a run that never stopped."""
    paths = synthetic_horizontal(tmp_path / "data", parties=3)
    train = {"personalization": "ditto", "ditto_lambda": 0.5, "rounds": 4}
    spec = horizontal_dict(paths, train={**train, "secure_aggregation": False})
    keys = _secrets(list(paths))
    straight = _Run(tmp_path / "straight", spec, keys)

    real_sample = round_plan.sample

    def stop_at_round_2(job: HorizontalJobSpec, round_index: int) -> list[str]:
        if round_index == 2:
            raise ProtocolError("the coordinator stops here (test)")
        return real_sample(job, round_index)

    folder = tmp_path / "stopped"
    folder.mkdir()
    with monkeypatch.context() as patch:
        patch.setattr(round_plan, "sample", stop_at_round_2)
        stopped = simulate(
            write_toml(folder / "job.toml", spec),
            workdir=folder / "run",
            job_id=JOB_ID,
            party_secrets=keys,
            spec_digest=DIGEST,
        )
    assert stopped.status == "failed"
    for party in paths:
        with np.load(folder / "run" / party / "checkpoints" / f"{CHECKPOINT}.npz") as saved:
            assert int(saved["round"]) == 1 and STATE_KEY in saved.files
    resumed = _Run(folder, spec, keys)
    assert np.array_equal(resumed.global_params, straight.global_params)
    for party in paths:
        assert np.array_equal(resumed.personal[party], straight.personal[party]), party
