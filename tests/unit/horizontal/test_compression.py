"""Compression: int8 is unbiased and within one step; top-k with error feedback loses
nothing over rounds (what is not sent is carried), and without the feedback it would."""

from __future__ import annotations

import numpy as np

from vfl.algorithms.horizontal.compression import TopK, dequantize, quantize


def test_int8_is_within_one_step_and_unbiased_over_many_draws() -> None:
    rng = np.random.default_rng(0)
    update = rng.normal(0, 0.3, 1000)
    step = (update.max() - update.min()) / 255
    once = quantize(update, rng)
    assert once.nbytes == 1000 + 16
    assert np.abs(dequantize(once) - update).max() <= step + 1e-12
    mean = np.mean([dequantize(quantize(update, rng)) for _ in range(400)], axis=0)
    assert np.abs(mean - update).max() < step / 4  # rounding to nearest would bias by ~step/2


def test_a_constant_update_survives_quantization() -> None:
    rng = np.random.default_rng(1)
    assert np.allclose(dequantize(quantize(np.full(8, 0.25), rng)), 0.25)


def test_top_k_with_error_feedback_delivers_the_whole_sum_over_rounds() -> None:
    rng = np.random.default_rng(2)
    updates = [rng.normal(0, 1, 200) for _ in range(30)]
    topk = TopK(fraction=0.1)
    sent = [topk.compress(u) for u in updates]
    assert all(len(s.indices) == 20 for s in sent)
    assert all(s.nbytes == 20 * 8 for s in sent)
    delivered = np.sum([s.dense() for s in sent], axis=0)
    assert topk.residual is not None
    assert np.allclose(delivered + topk.residual, np.sum(updates, axis=0), atol=1e-4)
    no_feedback = np.sum([TopK(fraction=0.1).compress(u).dense() for u in updates], axis=0)
    truth = np.sum(updates, axis=0)
    # the control: dropping the residual loses most of the sum; feedback keeps its error small
    assert np.linalg.norm(no_feedback - truth) > 2 * np.linalg.norm(delivered - truth)
