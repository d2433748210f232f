"""(b) The Paillier exchange equals the plain Taylor loss's gradients within the
fixed-point tolerance it states, for one batch and for the weights after a few SGD steps.

The oracle (vfl/algorithms/transfer/paillier/reference.py) is itself checked against
torch autograd of the same loss, so the chain is protocol → formulas → autograd.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.unit.transfer_paillier.harness import F64, Batch, random_batch, start_pair
from vfl.algorithms.transfer.paillier.bounds import cross_tolerance
from vfl.algorithms.transfer.paillier.exchange_side import HeadGradient, with_bias
from vfl.algorithms.transfer.paillier.reference import taylor_gradients, taylor_loss

ROWS, P_A, P_B, WIDTH, GAMMA, F = 48, 4, 3, 5, 0.7, 16


def _tolerance(batch: Batch, gamma: float, f: int) -> tuple[F64, F64]:
    """Per-entry bounds (A's, B's) of (p+1) × d from bounds.cross_tolerance: each side's
    cross gradient is two sums of products of encoded factors."""
    phi = batch.phi_weights @ batch.u_a
    ht_a, ht_b = with_bias(batch.h_a), with_bias(batch.h_b)
    y = batch.labels
    v = ht_a.T @ batch.phi_weights
    alpha = -2 * gamma * ht_a - 0.5 * y[:, None] * v[None, :]
    beta = 0.25 * np.outer(v, phi)
    s = batch.u_b.T @ batch.u_b
    tol_a = cross_tolerance(alpha, batch.u_b, f) + cross_tolerance(beta.T, s, f)
    q = -0.5 * y[:, None] * phi[None, :] - 2 * gamma * batch.u_a
    k = ht_b.T @ batch.u_b
    tol_b = cross_tolerance(ht_b, q, f) + cross_tolerance(k.T, 0.25 * np.outer(phi, phi), f)
    return tol_a, tol_b


def _stack(g: HeadGradient) -> F64:
    return np.vstack([g.weight, g.bias[None, :]])


def test_reference_gradients_equal_torch_autograd_of_the_taylor_loss() -> None:
    b = random_batch(ROWS, P_A, P_B, WIDTH, seed=1)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vars(b).items()}
    phi = t["phi_weights"] @ t["u_a"]
    fi = t["u_b"] @ phi
    loss = (np.log(2) - 0.5 * t["labels"] * fi + fi**2 / 8).sum() + GAMMA * (
        (t["u_a"] - t["u_b"]) ** 2
    ).sum()
    assert abs(loss.item() - taylor_loss(b.u_a, b.labels, b.phi_weights, b.u_b, GAMMA)) < 1e-9
    loss.backward()
    ga, gb = taylor_gradients(b.h_a, b.u_a, b.labels, b.phi_weights, b.h_b, b.u_b, GAMMA)
    assert t["u_a"].grad is not None and t["u_b"].grad is not None
    np.testing.assert_allclose(_stack(ga), with_bias(b.h_a).T @ t["u_a"].grad.numpy(), atol=1e-9)
    np.testing.assert_allclose(_stack(gb), with_bias(b.h_b).T @ t["u_b"].grad.numpy(), atol=1e-9)


@pytest.mark.parametrize("width", [WIDTH, 13])
def test_paillier_gradients_match_the_plain_taylor_gradients_within_tolerance(
    tmp_path: Path, width: int
) -> None:
    """d = 13 needs three ciphertexts per row with 512-bit keys (6 slots): chunking."""
    pair = start_pair(tmp_path, width, ROWS, GAMMA, F)
    if width > WIDTH:
        assert pair.source.own_layout().slots < width
    try:
        b = random_batch(ROWS, P_A, P_B, width, seed=2)
        ga, gb = pair.exchange(b, {"epoch": 0, "batch": 0})
    finally:
        pair.close()
    ra, rb = taylor_gradients(b.h_a, b.u_a, b.labels, b.phi_weights, b.h_b, b.u_b, GAMMA)
    tol_a, tol_b = _tolerance(b, GAMMA, F)
    err_a, err_b = np.abs(_stack(ga) - _stack(ra)), np.abs(_stack(gb) - _stack(rb))
    assert np.all(err_a <= tol_a), (err_a.max(), tol_a.min())
    assert np.all(err_b <= tol_b), (err_b.max(), tol_b.min())
    # the tolerance is tight enough to mean something: far below the gradients themselves
    assert tol_a.max() < 1e-3 * np.abs(_stack(ra)).max()
    assert tol_b.max() < 1e-3 * np.abs(_stack(rb)).max()


def test_paillier_sgd_weights_track_plain_sgd_over_steps(tmp_path: Path) -> None:
    """Linear heads on fixed inputs, 4 SGD steps on both runs. The weights' difference
    after step t obeys e_t ≤ (1 + η·Lip)·e_{t-1} + η·tol_t; we assert the looser
    e_t ≤ 2·η·Σ_s tol_s (η·Lip < 1 here), tol_s the per-step gradient bound."""
    rng = np.random.default_rng(3)
    b0 = random_batch(ROWS, P_A, P_B, WIDTH, seed=3)
    w_a = rng.normal(size=(P_A + 1, WIDTH)) / 2
    w_b = rng.normal(size=(P_B + 1, WIDTH)) / 2
    plain = [w_a.copy(), w_b.copy()]
    secure = [w_a.copy(), w_b.copy()]
    lr, budget = 0.002, 0.0
    pair = start_pair(tmp_path, WIDTH, ROWS, GAMMA, F)
    try:
        for step in range(4):
            pb = _batch_for(b0, *plain)
            sb = _batch_for(b0, *secure)
            ra, rb = taylor_gradients(
                pb.h_a, pb.u_a, pb.labels, pb.phi_weights, pb.h_b, pb.u_b, GAMMA
            )
            ga, gb = pair.exchange(sb, {"epoch": 0, "batch": step})
            tol_a, tol_b = _tolerance(sb, GAMMA, F)
            budget += lr * max(tol_a.max(), tol_b.max())
            plain = [plain[0] - lr * _stack(ra), plain[1] - lr * _stack(rb)]
            secure = [secure[0] - lr * _stack(ga), secure[1] - lr * _stack(gb)]
            diff = max(np.abs(plain[0] - secure[0]).max(), np.abs(plain[1] - secure[1]).max())
            assert diff <= 2 * budget, (step, diff, budget)
    finally:
        pair.close()
    assert np.abs(plain[0] - w_a).max() > 1e3 * budget  # the weights really moved


def _batch_for(b: Batch, w_a: F64, w_b: F64) -> Batch:
    return Batch(
        b.h_a,
        with_bias(b.h_a) @ w_a,
        b.labels,
        b.phi_weights,
        b.h_b,
        with_bias(b.h_b) @ w_b,
    )
