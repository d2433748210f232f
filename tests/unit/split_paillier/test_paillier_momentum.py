"""Momentum on the shares of W equals plain SGD with momentum, up to fixed-point rounding.

Same spec, same secrets (same init, same batches), `optimizer = "sgd"` with momentum μ
(heavy ball or Nesterov) everywhere: the plain run trains W with torch.optim.SGD, the
Paillier run with each side's velocity share (share_momentum.py). Per-step losses and the
final W = V + acc must agree within TOLERANCE / (1 − μ).

Tolerance. test_paillier_oracle.TOLERANCE bounds what fixed-point rounding (f = 20) does to
plain SGD over these 8 steps. Momentum feeds every step's gradient, and so its rounding
error, into all later steps with total weight Σ_k μ^k = 1/(1 − μ) (Nesterov: 1 + μ/(1 − μ),
the same), and the rounding of μ·v adds ≤ 2^-2f per side and step, negligible beside it:
the same bound, times 1/(1 − μ). With `optimizer = "adam"` and momentum, both modes train
F's slice by SGD with momentum and L's own layers by Adam (label_optimizer.py); Adam's
step is not linear in its gradient (its gain on an error is ~1/√v̂), so for that case the
bound is the SGD one, not derived for Adam: it holds with ~30× margin here. The controls
show the comparison can fail: a Paillier run that ignores momentum (both sides plain SGD)
is caught by the oracle, and one side dropping its velocity share breaks W = V + acc by
ε-sized terms and stops training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import Run, run_job
from tests.unit.split_paillier.test_paillier_oracle import TOLERANCE
from vfl.algorithms.split import feature_holder, label_model
from vfl.algorithms.split.paillier.share_momentum import ShareMomentum
from vfl.algorithms.split.paillier.shares import from_tensor
from vfl.runtime.simulator import PartyFailedError

L, F = "bank", "shop"
PRECISION_BITS = 20
MOMENTUM = 0.9
BOUND = TOLERANCE / (1 - MOMENTUM)


def _runs(
    tmp_path: Path, nesterov: bool, model: dict[str, object], optimizer: str = "sgd"
) -> tuple[Run, Run, torch.Tensor, torch.Tensor]:
    paths = synthetic_vertical(tmp_path, {L: 3, F: 4}, rows=160)
    train = {
        "optimizer": optimizer,
        "learning_rate": 0.1,
        "momentum": MOMENTUM,
        "nesterov": nesterov,
        "workers": 1,
        "precision_bits": PRECISION_BITS,
    }
    plain = run_job(job_spec(job_dict(paths, train=train, model=model)), tmp_path / "plain")
    secure_spec = job_spec(job_dict(paths, train={**train, "protection": "paillier"}, model=model))
    secure = run_job(secure_spec, tmp_path / "paillier")
    want = _saved(tmp_path / "plain", L)["model"][f"sides.{F}.block.weight"].double()
    return plain, secure, want, _interactive(tmp_path / "paillier")


def _saved(workdir: Path, party: str) -> dict[str, Any]:
    loaded: dict[str, Any] = torch.load(workdir / party / "model" / "weights.pt", weights_only=True)
    return loaded


def _interactive(workdir: Path) -> torch.Tensor:
    """W = V + acc, decoded from the two parties' published shares."""
    v = from_tensor(_saved(workdir, L)["model"][f"sides.{F}.v_fixed"], "V")
    acc = from_tensor(_saved(workdir, F)["side"]["acc"], "acc")
    w = [int(x) / 2**PRECISION_BITS for x in (v + acc).ravel()]
    return torch.tensor(w, dtype=torch.float64).reshape(v.shape)


def _worst(a: list[float], b: list[float]) -> float:
    assert len(a) == len(b) == 2 * 4
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


MODELS = pytest.mark.parametrize(
    "model",
    # cut_width 8: with the factory's 4, F's bottom is dead (a = 0) for these fixed secrets
    # and W_F never moves, which would compare nothing
    [{"cut_width": 8, "bottom_hidden": [8]}, {"kind": "logistic_regression"}],
    ids=["split-nn", "logistic-preset"],
)


@pytest.mark.parametrize(
    ("optimizer", "nesterov"),
    [("sgd", False), ("sgd", True), ("adam", False)],
    ids=["heavy-ball", "nesterov", "adam-with-momentum-on-the-slices"],
)
@MODELS
def test_paillier_momentum_matches_plain_momentum(
    tmp_path: Path, optimizer: str, nesterov: bool, model: dict[str, object]
) -> None:
    plain, secure, want, got = _runs(tmp_path, nesterov, model, optimizer)
    worst = _worst(secure.losses, plain.losses)
    assert worst < BOUND, f"per-step loss differs by {worst:.2e}"
    torch.testing.assert_close(got, want, rtol=0, atol=BOUND)
    assert max(plain.losses) - min(plain.losses) > 1e-3  # not a comparison of constants
    for split in ("train", "validation"):
        assert secure.metrics[split]["loss"] == pytest.approx(
            plain.metrics[split]["loss"], abs=BOUND
        )


@MODELS
def test_paillier_that_ignores_momentum_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: dict[str, object]
) -> None:
    """The control: both sides take plain SGD steps on W (the behaviour before momentum);
    every other layer still has momentum, so only W's trajectory differs."""
    for module in (feature_holder, label_model):
        monkeypatch.setattr(module, "ShareMomentum", lambda *_: ShareMomentum())
    _, _, want, got = _runs(tmp_path, False, model)
    assert (got - want).abs().max() > 10 * BOUND  # the oracle's check of W fails


def test_one_side_without_its_velocity_share_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F stepping acc by plain SGD leaves W off by η·μ·(sums of ε), ~2^70 at f = 20:
    the next a·W overflows its slot and training stops."""
    monkeypatch.setattr(feature_holder, "ShareMomentum", lambda *_: ShareMomentum())
    with pytest.raises(PartyFailedError, match="overflowed"):
        _runs(tmp_path, False, {"kind": "logistic_regression"})
