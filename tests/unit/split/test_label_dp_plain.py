"""Label-DP with `protection = "none"`: what the label holder sends, and what it trains on.

Same spec and seed with and without label-DP: the first batch's forward pass is the same,
so the first `CutGradient` of each run is δ̃·W₀ᵀ and δ·W₀ᵀ with the same initial W₀
(d = u = 4, invertible): δ̃ and δ are recovered exactly and compared.
(Without label-DP training is untouched: test_plain_oracle.py at 1e-6.)
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import FIXED_SPEC_DIGEST, run_job
from vfl.algorithms.split.initial_weights import feature_half, label_half
from vfl.algorithms.split.messages import CutGradient
from vfl.api import simulate
from vfl.config.job_spec import VerticalJobSpec
from vfl.privacy.label_dp import LabelDP
from vfl.runtime.party_secret import PartySecret, secret_file
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace

L = "bank"
WIDTHS = {L: 3, "shop": 4, "mall": 2}
BATCH = 32


def _spec(paths: dict[str, Path], privacy: dict[str, Any], **train: Any) -> VerticalJobSpec:
    # a top wide enough that no fixed init leaves every ReLU dead (δ = 0 would test nothing)
    model = {"top_hidden": [16]}
    return job_spec(job_dict(paths, train={"epochs": 1, **train}, model=model, privacy=privacy))


def _run(spec: VerticalJobSpec, workdir: Path) -> dict[str, list[np.ndarray]]:
    """Per feature holder, the CutGradients it received, in order. The harness keeps the
    job id fixed, so a rerun in the same workspaces reuses the parties' secrets."""
    transcript = Transcript()
    run_job(spec, workdir, transcript=transcript)
    return {
        p.name: [m.values for _, m in transcript.messages(p.name, CutGradient)]
        for p in spec.feature_holders
    }


def _initial_w(spec: VerticalJobSpec) -> dict[str, np.ndarray]:
    """W₀ = W_L + W_F per feature holder, from the secrets the harness fixes."""
    d = u = spec.model.cut_width
    fan_in = d * len(spec.parties)  # every party, the label holder included, has d outputs

    def secret(name: str) -> PartySecret:
        return PartySecret(hashlib.sha256(name.encode()).digest(), "job", name, FIXED_SPEC_DIGEST)

    return {
        p.name: (
            label_half(secret(L), p.name, d, u, fan_in) + feature_half(secret(p.name), d, u, fan_in)
        )
        .double()
        .numpy()
        for p in spec.feature_holders
    }


def _delta(gradient: np.ndarray, w: np.ndarray) -> np.ndarray:
    """δ from g = δ·Wᵀ (W square)."""
    return gradient.astype(np.float64) @ np.linalg.inv(w.T)


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    return synthetic_vertical(tmp_path, WIDTHS, rows=200)


def test_label_dp_clips_each_example_and_adds_noise_of_std_2cz(
    tmp_path: Path, paths: dict[str, Path]
) -> None:
    exact_spec = _spec(paths, {})
    w = _initial_w(exact_spec)["shop"]
    delta = _delta(_run(exact_spec, tmp_path / "exact")["shop"][0], w)
    per_example = delta * BATCH
    norms = np.linalg.norm(per_example, axis=1)
    assert float(norms.min()) > 0  # a live gradient for every example
    clip = float(np.quantile(norms, 0.75)) / 2  # most rows are clipped, by a lot
    z = 0.02  # noise small next to what clipping removes: an unclipped δ would show
    private = _spec(paths, {"clip": clip, "noise_multiplier": z})
    released = _delta(_run(private, tmp_path / "private")["shop"][0], w) * BATCH
    clipped = per_example * np.minimum(1.0, clip / norms)[:, None]
    noise = released - clipped
    assert noise.shape == (BATCH, 4)
    # 128 draws: the sample std of N(0, σ²) is within ±20 % of σ with probability > 0.999.
    assert 0.8 < float(noise.std()) / (2 * clip * z) < 1.2
    assert abs(float(noise.mean())) < 2 * clip * z * 0.3
    unclipped = released - per_example
    assert float(unclipped.std()) > 2 * float(noise.std())  # the check above can fail


def test_every_feature_holder_gets_the_same_noisy_delta(
    tmp_path: Path, paths: dict[str, Path]
) -> None:
    spec = _spec(paths, {"label_dp_epsilon": 2.0})
    w = _initial_w(spec)
    got = _run(spec, tmp_path / "run")
    shop, mall = (_delta(got[n][0], w[n]) for n in ("shop", "mall"))
    np.testing.assert_allclose(shop, mall, rtol=1e-4, atol=1e-6)
    exact = _delta(_run(_spec(paths, {}), tmp_path / "exact")["shop"][0], w["shop"])
    assert not np.allclose(shop, exact, atol=1e-3)


def test_the_interactive_layer_still_trains_on_the_exact_gradient(
    tmp_path: Path, paths: dict[str, Path]
) -> None:
    """One batch, one step: every weight of the label holder (W_p included) is the same
    with and without label-DP; only the feature holders' bottoms moved differently."""
    one_step = {"batch_size": 1000, "validation_fraction": 0.0}
    for name, privacy in (("exact", {}), ("private", {"label_dp_epsilon": 1.0})):
        simulate(  # same secrets and digest: the same initial weights in both runs
            _spec(paths, privacy, **one_step),
            workdir=tmp_path / name,
            job_id="job",
            party_secrets={n: hashlib.sha256(n.encode()).digest() for n in WIDTHS},
            spec_digest=FIXED_SPEC_DIGEST,
        )

    def weights(run: str, party: str, part: str) -> dict[str, torch.Tensor]:
        path = tmp_path / run / party / "model" / "weights.pt"
        state: dict[str, dict[str, torch.Tensor]] = torch.load(path, weights_only=True)
        return state[part]

    exact, private = weights("exact", L, "model"), weights("private", L, "model")
    assert exact.keys() == private.keys()
    for key, value in exact.items():
        torch.testing.assert_close(private[key], value, rtol=0, atol=1e-7, msg=key)
    exact_bottom, private_bottom = (weights(run, "shop", "bottom") for run in ("exact", "private"))
    assert not torch.allclose(exact_bottom["0.weight"], private_bottom["0.weight"], atol=1e-4)


def test_without_label_dp_the_exact_gradient_is_sent_every_time(
    tmp_path: Path, paths: dict[str, Path]
) -> None:
    first = _run(_spec(paths, {}), tmp_path / "a")["shop"]
    second = _run(_spec(paths, {}), tmp_path / "b")["shop"]
    assert len(first) == 5  # 160 training rows, batches of 32
    assert all(np.array_equal(x, y) for x, y in zip(first, second, strict=True))


def test_label_dp_noise_is_replayed_after_a_restart_and_differs_between_label_holders(
    tmp_path: Path, paths: dict[str, Path]
) -> None:
    """Same workspace → same δ̃ (a restarted program re-sends what it sent); another
    label holder's workspace → other noise: it comes from L's secret, not the job seed."""
    spec = _spec(paths, {"label_dp_epsilon": 2.0})
    first = _run(spec, tmp_path / "a")["shop"]
    for party in WIDTHS:  # restart training from scratch, keep the workspaces
        (tmp_path / "a" / party / "checkpoints" / "train.pt").unlink()
        shutil.rmtree(tmp_path / "a" / party / "model")
    replayed = _run(spec, tmp_path / "a")["shop"]
    for party in WIDTHS:  # other parties' secrets (the harness would fix them)
        Workspace(tmp_path / "b" / party).private(
            secret_file("job"), lambda: secrets.token_bytes(32)
        )
    other = _run(spec, tmp_path / "b")["shop"]
    assert len(first) == len(replayed) == len(other) == 5
    assert all(np.array_equal(x, y) for x, y in zip(first, replayed, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_the_label_holder_reports_the_epsilon_spent_against_each_feature_holder(
    tmp_path: Path, paths: dict[str, Path]
) -> None:
    spec = _spec(paths, {"label_dp_epsilon": 2.0, "clip": 0.5}, epochs=3)
    result = simulate(spec, workdir=tmp_path / "run")
    label_dp = LabelDP.from_spec(spec.privacy, 3)
    assert label_dp is not None
    assert result.privacy.label_dp == {
        "target_epsilon": 2.0,
        "delta": 1e-5,
        "clip": 0.5,
        "noise_multiplier": label_dp.noise_multiplier,
        "epochs": 3,
    }
    assert set(result.privacy.epsilon) == {"shop", "mall"}
    assert all(1.99 < e <= 2.0 for e in result.privacy.epsilon.values())
    assert result.privacy.attacks == []
    plain = simulate(_spec(paths, {}), workdir=tmp_path / "plain")
    assert (plain.privacy.label_dp, plain.privacy.epsilon) == (None, {})
    assert plain.to_dict()["privacy"] == {
        "label_dp": None,
        "epsilon": {},
        "attacks": [],
        "mechanisms": {},
    }
