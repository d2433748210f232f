"""(c) Each party's best reconstruction of the other's representations from its transcript.

A (source) attacks U_B; B (target) attacks U_A. Each attacker takes only what it received
(the transcript), its own party secret (to remove its own masks) and its own inputs, and
solves the linear system its opened head gradient gives for the peer's rows (minimum-norm
least squares, refined for the quadratic Φ terms; with the alignment prior U_own as a
second estimate), keeping whichever estimate is better: the attack at its strongest.

The broken variant is the protocol where a side learns its per-row gradient ∂L/∂u: the
same exchange with one-hot head inputs (h = I_m, so the head gradient's rows *are* the
per-row gradients) and the row guard (bounds.min_rows) switched off. The same attack is
then exact for A (to 0.1 %) and within a few percent for B, which proves the test can fail; on the
real protocol both attackers are off by ~sqrt(1 − (p+1)/m) ≈ 95 % or more.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.unit.transfer_paillier.harness import (
    DIGEST,
    F64,
    A,
    B,
    Batch,
    random_batch,
    start_pair,
)
from vfl.algorithms.transfer.paillier import ClassSummary, bounds
from vfl.algorithms.transfer.paillier.bounds import layout
from vfl.algorithms.transfer.paillier.exchange_side import unmask_rows, with_bias
from vfl.algorithms.transfer.paillier.messages import (
    OpenedSourceGradient,
    OpenedTargetGradient,
    TransferKey,
)
from vfl.crypto.keys import PublicKey
from vfl.crypto.wire import plain_from_bytes
from vfl.errors import CryptoError
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace

ROWS, P, WIDTH, GAMMA, F = 64, 4, 4, 1.0, 16
SCOPE = "train/epoch=0/batch=0"


def _opened_cross(
    transcript: Transcript, tmp_path: Path, me: str, peer: str, role: str, outputs: int, width: int
) -> F64:
    """The cross gradient X the attacker `me` holds, rebuilt from its transcript alone:
    the opened residues it received minus its own masks (from its own party secret)."""
    key_msg = transcript.one(me, peer, TransferKey, "train/step=exchange")
    peer_key = PublicKey.from_bytes(key_msg.n, key_msg.hs, "transcript")
    opened: OpenedSourceGradient | OpenedTargetGradient = (
        transcript.one(me, peer, OpenedSourceGradient, SCOPE)
        if role == "source"
        else transcript.one(me, peer, OpenedTargetGradient, SCOPE)
    )
    secret = PartySecret.load(Workspace(tmp_path / me), "job", me, DIGEST)
    draws = secret.derive(f"transfer_paillier/{role}/{peer}/mask", SCOPE)
    n = int(peer_key.n)
    masks = [draws.below(i, n) for i in range(opened.count)]
    values = plain_from_bytes(peer_key, opened.values, opened.count, "transcript")
    lay = layout(peer_key.bits, F, ROWS, width)
    return unmask_rows(values, masks, n, lay, outputs, width, F, "transcript")


def _solve(design: F64, rhs: F64) -> F64:
    """Minimum-norm U with design·U = rhs (the best linear estimate under any isotropic
    prior: it recovers U's projection onto design's row space, nothing else)."""
    return np.linalg.pinv(design) @ rhs


def source_attack(x_a: F64, b: Batch, gamma: float) -> F64:
    """A's estimate of U_B from X_A = −2γH̃_AᵀU_B + v zᵀ, z = −½U_Bᵀy + ¼U_BᵀU_BΦ."""
    ht = with_bias(b.h_a)
    phi, v = b.summary.phi, b.summary.inputs
    best: F64 | None = None
    for prior in (np.zeros_like(b.u_a), b.u_a):
        z = np.zeros(x_a.shape[1])
        for _ in range(20):  # fixed point for the quadratic term: v is O(1/m)
            rhs = x_a - np.outer(v, z) + 2 * gamma * ht.T @ prior
            est = prior + _solve(-2 * gamma * ht.T, rhs)
            z = -0.5 * est.T @ b.labels + 0.25 * est.T @ est @ phi
        best = est if best is None or _err(est, b.u_b) < _err(best, b.u_b) else best
    assert best is not None
    return best


def target_attack(x_b: F64, b: Batch, gamma: float) -> F64:
    """B's estimate of U_A from X_B = H̃_Bᵀ(−½yΦᵀ − 2γU_A) + ¼KΦΦᵀ; B knows neither y nor
    Φ (both O(1/√m) here), so it solves for −2γU_A and treats them as noise."""
    ht = with_bias(b.h_b)
    best: F64 | None = None
    for prior in (np.zeros_like(b.u_b), b.u_b):
        est = prior + _solve(-2 * gamma * ht.T, x_b + 2 * gamma * ht.T @ prior)
        best = est if best is None or _err(est, b.u_a) < _err(best, b.u_a) else best
    assert best is not None
    return best


def _err(est: F64, truth: F64) -> float:
    return float(np.linalg.norm(est - truth) / np.linalg.norm(truth))


def _attack(tmp_path: Path, batch: Batch) -> tuple[float, float]:
    """(A's relative error on U_B, B's on U_A) after one real exchange of `batch`."""
    transcript = Transcript()
    width = batch.u_a.shape[1]
    pair = start_pair(tmp_path, width, ROWS, GAMMA, F, transcript=transcript)
    try:
        pair.exchange(batch, {"epoch": 0, "batch": 0})
    finally:
        pair.close()
    x_a = _opened_cross(transcript, tmp_path, A, B, "source", batch.h_a.shape[1] + 1, width)
    x_b = _opened_cross(transcript, tmp_path, B, A, "target", batch.h_b.shape[1] + 1, width)
    return (
        _err(source_attack(x_a, batch, GAMMA), batch.u_b),
        _err(target_attack(x_b, batch, GAMMA), batch.u_a),
    )


def _one_hot(b: Batch, which: str) -> Batch:
    eye = np.eye(ROWS)
    if which == A:
        summary = ClassSummary.of_rows(eye, b.u_a, b.labels / ROWS)
        return Batch(eye, b.u_a, b.labels, summary, b.h_b, b.u_b)
    return Batch(b.h_a, b.u_a, b.labels, b.summary, eye, b.u_b)


@pytest.mark.parametrize("width", [WIDTH, 2])  # 2: three result rows per masked ciphertext
def test_neither_side_reconstructs_the_others_representations(tmp_path: Path, width: int) -> None:
    err_a, err_b = _attack(tmp_path, random_batch(ROWS, P, P, width, seed=5))
    assert err_a > 0.8, err_a
    assert err_b > 0.8, err_b


BROKEN: dict[str, Callable[[tuple[float, float]], float]] = {
    A: lambda errs: errs[0],
    B: lambda errs: errs[1],
}


@pytest.mark.parametrize("width", [WIDTH, 2])
@pytest.mark.parametrize("attacker", [A, B])
def test_the_same_attack_succeeds_when_a_side_learns_its_per_row_gradient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attacker: str, width: int
) -> None:
    """The broken variant: one-hot head inputs make the attacker's head gradient its
    per-row gradient ∂L/∂u (allowed only because the row guard is switched off)."""
    monkeypatch.setattr(bounds, "ROWS_PER_INPUT", 0)
    batch = _one_hot(random_batch(ROWS, P, P, width, seed=5), attacker)
    err = BROKEN[attacker](_attack(tmp_path, batch))
    assert err < (1e-3 if attacker == A else 0.1), err


def test_the_row_guard_refuses_batches_that_would_reveal_per_row_gradients(
    tmp_path: Path,
) -> None:
    """Without the monkeypatch, the broken variant's batch is refused before any message."""
    batch = _one_hot(random_batch(ROWS, P, P, WIDTH, seed=5), A)
    pair = start_pair(tmp_path, WIDTH, ROWS, GAMMA, F)
    try:
        with pytest.raises(CryptoError, match="per-row values"):
            pair.source.exchange(
                pair.ctx[A].scoped(epoch=0, batch=0),
                batch.h_a,
                batch.u_a,
                batch.labels,
                batch.summary,
            )
    finally:
        pair.close()
