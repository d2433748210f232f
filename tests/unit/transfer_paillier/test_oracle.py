"""(b) The Paillier exchange equals the plain Taylor loss's gradients within the
fixed-point tolerance it states, for one batch and for the weights after a few SGD steps.

The oracle (vfl/algorithms/transfer/paillier/reference.py) is itself checked against
torch autograd of the same loss with respect to the heads' weights, with Φ averaged over
the batch or over labelled rows outside it too (the paper's Φ), so the chain is
protocol → formulas → autograd.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.unit.transfer_paillier.harness import F64, Batch, random_batch, start_pair
from vfl.algorithms.transfer.paillier import ClassSummary
from vfl.algorithms.transfer.paillier.bounds import cross_tolerance
from vfl.algorithms.transfer.paillier.exchange_side import (
    HeadGradient,
    outputs_per_ciphertext,
    with_bias,
)
from vfl.algorithms.transfer.paillier.reference import taylor_gradients, taylor_loss

ROWS, P_A, P_B, WIDTH, GAMMA, F = 48, 4, 3, 5, 0.7, 16


def _tolerance(batch: Batch, gamma: float, f: int) -> tuple[F64, F64]:
    """Per-entry bounds (A's, B's) of (p+1) × d from bounds.cross_tolerance: each side's
    cross gradient is two sums of products of encoded factors."""
    phi, v = batch.summary.phi, batch.summary.inputs
    ht_a, ht_b = with_bias(batch.h_a), with_bias(batch.h_b)
    y = batch.labels
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


def _run(b: Batch) -> tuple[HeadGradient, HeadGradient]:
    return taylor_gradients(b.h_a, b.u_a, b.labels, b.summary, b.h_b, b.u_b, GAMMA)


@pytest.mark.parametrize("outside", [0, 30])
def test_reference_gradients_equal_torch_autograd_of_the_taylor_loss(outside: int) -> None:
    """Heads W̃_A, W̃_B are the leaves; Φ averages the batch's rows and `outside` more
    labelled rows of A (not in the overlap batch), whose h̃ enter only through Φ."""
    rng = np.random.default_rng(1)
    h_a, h_b = rng.normal(size=(ROWS, P_A)), rng.normal(size=(ROWS, P_B))
    h_out = rng.normal(size=(outside, P_A))
    y = np.where(rng.random(ROWS) < 0.5, -1.0, 1.0)
    y_out = np.where(rng.random(outside) < 0.5, -1.0, 1.0)
    wa = torch.tensor(rng.normal(size=(P_A + 1, WIDTH)) / 2, requires_grad=True)
    wb = torch.tensor(rng.normal(size=(P_B + 1, WIDTH)) / 2, requires_grad=True)
    ht_a, ht_b, ht_out = (torch.tensor(with_bias(h)) for h in (h_a, h_b, h_out))
    u_a, u_b = ht_a @ wa, ht_b @ wb
    weights = torch.tensor(np.concatenate([y, y_out]) / (ROWS + outside))
    phi = weights @ torch.cat([u_a, ht_out @ wa])
    fi = u_b @ phi
    yt = torch.tensor(y)
    loss = (np.log(2) - 0.5 * yt * fi + fi**2 / 8).sum() + GAMMA * ((u_a - u_b) ** 2).sum()
    loss.backward()
    all_h = np.vstack([h_a, h_out])
    all_u = np.vstack([u_a.detach().numpy(), (ht_out @ wa).detach().numpy()])
    summary = ClassSummary.of_rows(all_h, all_u, weights.numpy())
    ua, ub = u_a.detach().numpy(), u_b.detach().numpy()
    assert abs(loss.item() - taylor_loss(ua, y, summary.phi, ub, GAMMA)) < 1e-9
    ga, gb = taylor_gradients(h_a, ua, y, summary, h_b, ub, GAMMA)
    assert wa.grad is not None and wb.grad is not None
    np.testing.assert_allclose(_stack(ga), wa.grad.numpy(), atol=1e-9)
    np.testing.assert_allclose(_stack(gb), wb.grad.numpy(), atol=1e-9)


@pytest.mark.parametrize("width", [WIDTH, 13, 2])
def test_paillier_gradients_match_the_plain_taylor_gradients_within_tolerance(
    tmp_path: Path, width: int
) -> None:
    """d = 13 needs three ciphertexts per row with 512-bit keys (6 slots): chunking.
    d = 2 packs three result rows side by side per masked ciphertext (A's 5 rows in two
    ciphertexts, the second one short; B's 4 likewise)."""
    pair = start_pair(tmp_path, width, ROWS, GAMMA, F)
    if width > WIDTH:
        assert pair.source.own_layout().slots < width
    if width < WIDTH:
        assert outputs_per_ciphertext(width, pair.source.peer_layout()) == 3
    try:
        b = random_batch(ROWS, P_A, P_B, width, seed=2)
        ga, gb = pair.exchange(b, {"epoch": 0, "batch": 0})
    finally:
        pair.close()
    ra, rb = _run(b)
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
            pb, sb = _batch_for(b0, *plain), _batch_for(b0, *secure)
            ra, rb = _run(pb)
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
    u_a = with_bias(b.h_a) @ w_a
    summary = ClassSummary.of_rows(b.h_a, u_a, b.labels / len(b.labels))
    return Batch(b.h_a, u_a, b.labels, summary, b.h_b, with_bias(b.h_b) @ w_b)
