"""Paillier-protected training equals plain SGD training, up to fixed-point rounding.

Same spec, same seed (same init, same batches), `optimizer = "sgd"`: the Paillier run's
per-step losses must match the plain run's within TOLERANCE. The interactive layer of a
Paillier-protected feature holder always trains by SGD (V ← V − η(aᵀδ + ε), acc ← acc + ηε),
so the plain baseline uses SGD everywhere.

Tolerance. Encoded values are rounded to 2^-f (f = precision_bits = 20): a, δ, V and acc
each carry ≤ 2^-21 absolute error per entry, and V + acc = W to within 2 ulp after every
step; z_F = a·W is then exact to ~d·2^-21·(|a| + |W|) ≈ 1e-5 for d ≤ 8, |a|, |W| ≲ 2.
Over 2 epochs of 4 steps these perturbations move the loss (~0.7) by well under 1e-5.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_ou.keys import small_ou_key
from tests.unit.split_paillier.harness import run_job
from vfl.algorithms.split.paillier.phase_keys import AnyKeyGen

TOLERANCE = 1e-5
SCHEMES: dict[str, tuple[dict[str, object], AnyKeyGen | None]] = {
    "paillier": ({}, None),
    "ou": ({"he_scheme": "ou", "key_bits": 3072}, small_ou_key),
}


@pytest.mark.parametrize(
    ("widths", "model"),
    [
        ({"bank": 3, "shop": 4}, {}),
        ({"bank": 3, "shop": 4, "telco": 2}, {}),
        ({"bank": 3, "shop": 5}, {"kind": "logistic_regression"}),
    ],
    ids=["one-feature-holder", "two-feature-holders", "logistic-preset"],
)
@pytest.mark.parametrize("scheme", ["paillier", "ou"])
def test_paillier_losses_match_plain_sgd(
    tmp_path: Path, widths: dict[str, int], model: dict[str, object], scheme: str
) -> None:
    """`scheme`: `train.he_scheme`; OU (statistical masks, bounded decryptions) must give
    the same losses, so a wrong mask width or an unremoved mask shows up here."""
    paths = synthetic_vertical(tmp_path, widths, rows=160)
    train = {"optimizer": "sgd", "learning_rate": 0.1, "workers": 1, "precision_bits": 20}
    plain = run_job(job_spec(job_dict(paths, train=train, model=model)), tmp_path / "plain")
    protected = {**train, "protection": "paillier", **SCHEMES[scheme][0]}
    secure = run_job(
        job_spec(job_dict(paths, train=protected, model=model)),
        tmp_path / scheme,
        SCHEMES[scheme][1],
    )
    assert len(secure.losses) == len(plain.losses) == 2 * 4
    worst = max(abs(a - b) for a, b in zip(secure.losses, plain.losses, strict=True))
    assert worst < TOLERANCE, f"per-step loss differs by {worst:.2e}"
    assert max(plain.losses) - min(plain.losses) > 1e-3  # not a comparison of constants
    for split in ("train", "validation"):
        assert secure.metrics[split]["loss"] == pytest.approx(
            plain.metrics[split]["loss"], abs=TOLERANCE
        )
