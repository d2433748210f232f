"""Label-DP under Paillier: F decrypts the same δ̃·Wᵀ it would receive in plain mode.

The plain run is the oracle. Both runs use the same label holder secret (its workspace's
private/ folder is copied), so the noise of each batch is the same; with SGD everywhere
the two runs then agree up to the fixed-point encoding. The second batch checks the
homomorphic term δ̃·[[acc]] as well: acc ≠ 0 after one step, and it is large (it
accumulates F's masks), so an exact δ in that term alone would be far off.
F's view is read the way `vfl audit` reads it: decrypted with F's own key.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.privacy.harness import audit_run
from tests.unit.split_paillier.harness import run_job
from tests.unit.split_paillier.test_paillier_oracle import TOLERANCE
from vfl.config.job_spec import VerticalJobSpec
from vfl.privacy.received import received_gradients
from vfl.runtime.simulator import PartyFailedError

L, F = "bank", "shop"
PRIVACY = {"noise_multiplier": 0.5, "clip": 1.0}


def _spec(
    paths: dict[str, Path], protection: str, privacy: dict[str, Any], rows: int
) -> VerticalJobSpec:
    train = {
        "protection": protection,
        "optimizer": "sgd",
        "learning_rate": 0.1,
        "workers": 1,
        "precision_bits": 20,
        "epochs": 1,
        "batch_size": rows,
        "validation_fraction": 0.0,
    }
    return job_spec(job_dict(paths, train=train, privacy=privacy))


def _view(spec: VerticalJobSpec, workdir: Path) -> list[np.ndarray]:
    run, _ = audit_run(spec, workdir)
    return [g.values for g in received_gradients(run, F)]


def test_feature_holder_decrypts_the_plain_modes_noisy_gradient(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {L: 3, F: 4}, rows=64)
    plain = _view(_spec(paths, "none", PRIVACY, 32), tmp_path / "plain")
    shutil.copytree(tmp_path / "plain" / L / "private", tmp_path / "paillier" / L / "private")
    paillier = _view(_spec(paths, "paillier", PRIVACY, 32), tmp_path / "paillier")
    assert len(plain) == len(paillier) == 2
    for got, want in zip(paillier, plain, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
    exact = _view(_spec(paths, "none", {}, 32), tmp_path / "exact")
    assert not np.allclose(exact[0], plain[0], atol=100 * TOLERANCE)  # the check can fail


def test_the_interactive_layer_still_trains_on_the_exact_gradient(tmp_path: Path) -> None:
    """One batch, one step: W = V + acc is the same with and without label-DP (B1 uses
    the exact δ); F's bottom, trained on δ̃·Wᵀ, is not."""
    paths = synthetic_vertical(tmp_path, {L: 3, F: 4}, rows=64)
    for name, privacy in (("exact", {}), ("private", PRIVACY)):
        run_job(_spec(paths, "paillier", privacy, 64), tmp_path / name)

    def state(run: str, party: str) -> dict[str, Any]:
        loaded: dict[str, Any] = torch.load(
            tmp_path / run / party / "model" / "weights.pt", weights_only=True
        )
        return loaded

    def interactive(run: str) -> torch.Tensor:
        v = state(run, L)["model"][f"sides.{F}.v_fixed"]
        w: torch.Tensor = (v + state(run, F)["side"]["acc"]).double() / 2**20
        return w

    torch.testing.assert_close(interactive("private"), interactive("exact"), rtol=0, atol=TOLERANCE)
    exact_bottom, private_bottom = (
        state(run, F)["bottom"]["0.weight"] for run in ("exact", "private")
    )
    assert not torch.allclose(exact_bottom, private_bottom, atol=1e-4)


def test_noise_beyond_the_fixed_point_range_names_the_fix(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {L: 3, F: 4}, rows=40)
    spec = _spec(paths, "paillier", {"noise_multiplier": 5000.0}, 8)
    with pytest.raises(PartyFailedError, match=r"raise train\.batch_size or privacy\.label_dp"):
        run_job(spec, tmp_path / "run")
