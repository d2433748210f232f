"""The label holder's activation-reconstruction attack, mounted on the real programs.

L inverts z_F = a·W₀ with its best estimate of W₀ (vfl/privacy/attacks/). The attack must
succeed exactly on a deliberately broken feature holder that starts its share at acc₀ = 0
(so L's V₀ = W₀, the bug the review found): that proves the test can fail. On the default
protocol acc₀ is wide and uniform, and L's best reconstruction is off by ~100 % or more.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.privacy.harness import audit_run
from tests.unit.split_paillier.harness import FIXED_SPEC_DIGEST, run_job
from vfl.algorithms.split.paillier.feature_side import PaillierFeatureSide
from vfl.algorithms.split.paillier.shares import Shares
from vfl.privacy.attacks.activation_reconstruction import (
    ActivationReconstruction,
    Reconstruction,
    label_holder_reconstruction,
)
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace

L, F = "bank", "shop"


MODELS: dict[str, tuple[dict[str, int], str, dict[str, object]]] = {
    # split_nn: L would recover F's bottom outputs a (d = u = 4)
    "split_nn": ({F: 5}, "binary", {"bottom_hidden": [6], "cut_width": 4}),
    # the logistic preset, multiclass with K = 3 ≥ d_F = 3: a is F's raw (standardised) row
    "logistic_multiclass": ({F: 3}, "multiclass", {"kind": "logistic_regression"}),
}


def _attack(tmp_path: Path, model: str = "split_nn") -> Reconstruction:
    widths, task, model_table = MODELS[model]
    paths = synthetic_vertical(tmp_path, {L: 3, **widths}, rows=120, task=task)
    train = {"protection": "paillier", "workers": 1, "epochs": 1, "batch_size": 32}
    spec = job_spec(job_dict(paths, train=train, model={**model_table, "task": task}))
    transcript = Transcript()
    run_job(spec, tmp_path / "run", transcript=transcript)
    return label_holder_reconstruction(
        transcript,
        spec,
        "job",
        L,
        F,
        PartySecret.load(Workspace(tmp_path / "run" / L), "job", L, FIXED_SPEC_DIGEST),
        Workspace(tmp_path / "run" / F),
    )


@pytest.mark.parametrize("model", sorted(MODELS))
def test_label_holder_cannot_reconstruct_activations_by_default(tmp_path: Path, model: str) -> None:
    result = _attack(tmp_path, model)
    assert result.relative_error > 0.9, result.by_estimate


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_attack_is_exact_when_the_initial_share_is_not_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    """The broken variant: acc₀ = 0, so M = W_F and L's V₀ is W₀ itself."""

    def unmasked(self: PaillierFeatureSide, secret: PartySecret) -> Shares:
        return np.zeros((self.width, self.u), dtype=object)

    monkeypatch.setattr(PaillierFeatureSide, "initial_mask", unmasked)
    result = _attack(tmp_path, model)
    assert result.by_estimate["V0"] < 1e-4, result.by_estimate


def test_the_audit_reports_the_reconstruction_per_feature_holder(tmp_path: Path) -> None:
    """The same attack through `vfl audit`'s interface: plain mode hands L the activations
    (error 0 by construction), Paillier leaves it at ~100 %."""
    paths = synthetic_vertical(tmp_path, {L: 3, F: 5}, rows=120)
    model = {"bottom_hidden": [6], "cut_width": 4}
    checks: dict[str, Callable[[float], bool]] = {
        "none": lambda e: e == 0.0,
        "paillier": lambda e: e > 0.9,
    }
    for protection, check in checks.items():
        train = {"protection": protection, "workers": 1, "epochs": 1, "batch_size": 32}
        spec = job_spec(job_dict(paths, train=train, model=model))
        run, _ = audit_run(spec, tmp_path / protection)
        (finding,) = ActivationReconstruction().mount(run)
        assert (finding.attacker, finding.target, finding.metric) == (L, F, "relative_error")
        assert check(finding.value), (protection, finding.value)
