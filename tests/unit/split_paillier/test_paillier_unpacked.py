"""`packing = false` (one value per ciphertext, the benchmark's baseline) trains like plain SGD.

Same tolerance and argument as test_paillier_oracle.py: only the slot layouts differ, the
fixed-point arithmetic is the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import run_job
from tests.unit.split_paillier.test_paillier_oracle import TOLERANCE


def test_unpacked_paillier_losses_match_plain_sgd(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=100)
    train = {"optimizer": "sgd", "learning_rate": 0.1, "workers": 1, "precision_bits": 20}
    model = {"bottom_hidden": [4], "cut_width": 3, "top_hidden": [3]}
    plain = run_job(job_spec(job_dict(paths, train=train, model=model)), tmp_path / "plain")
    unpacked = {**train, "protection": "paillier", "packing": False}
    secure = run_job(job_spec(job_dict(paths, train=unpacked, model=model)), tmp_path / "he")
    assert len(secure.losses) == len(plain.losses) == 2 * 3
    worst = max(abs(a - b) for a, b in zip(secure.losses, plain.losses, strict=True))
    assert worst < TOLERANCE, f"per-step loss differs by {worst:.2e}"
    assert secure.metrics["validation"]["loss"] == pytest.approx(
        plain.metrics["validation"]["loss"], abs=TOLERANCE
    )
