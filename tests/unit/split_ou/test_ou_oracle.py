"""`he_scheme = "ou"` trains the same model as plain SGD, up to fixed-point rounding.

The oracle and tolerance of tests/unit/split_paillier/test_paillier_oracle.py, with the
cut-layer values under Okamoto–Uchiyama: statistical masks instead of uniform ones and
every decryption bounded, so a wrong mask width or an unremoved mask shows up as a loss
that differs (or as a refused decryption).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import run_job
from vfl.api import simulate
from vfl.crypto.ou import OuKeyPair, generate_ou_keypair
from vfl.errors import ConfigError
from vfl.result import JobResult

TOLERANCE = 1e-5
OU_TEST_BITS = 1536
"""A small test key (production: ≥ 3072) whose plaintexts still hold every layout."""


def small_ou_key(_bits: int) -> OuKeyPair:
    return generate_ou_keypair(OU_TEST_BITS, allow_insecure=True)


@pytest.mark.parametrize(
    ("widths", "model"),
    [
        ({"bank": 3, "shop": 4}, {}),
        ({"bank": 3, "shop": 4, "telco": 2}, {}),
        ({"bank": 3, "shop": 5}, {"kind": "logistic_regression"}),
    ],
    ids=["one-feature-holder", "two-feature-holders", "logistic-preset"],
)
def test_ou_losses_match_plain_sgd(
    tmp_path: Path, widths: dict[str, int], model: dict[str, object]
) -> None:
    paths = synthetic_vertical(tmp_path, widths, rows=160)
    train = {"optimizer": "sgd", "learning_rate": 0.1, "workers": 1, "precision_bits": 20}
    plain = run_job(job_spec(job_dict(paths, train=train, model=model)), tmp_path / "plain")
    ou_train = {**train, "protection": "paillier", "he_scheme": "ou", "key_bits": 3072}
    secure = run_job(
        job_spec(job_dict(paths, train=ou_train, model=model)), tmp_path / "ou", small_ou_key
    )
    assert len(secure.losses) == len(plain.losses) == 2 * 4
    worst = max(abs(a - b) for a, b in zip(secure.losses, plain.losses, strict=True))
    assert worst < TOLERANCE, f"per-step loss differs by {worst:.2e}"
    assert max(plain.losses) - min(plain.losses) > 1e-3  # not a comparison of constants
    for split in ("train", "validation"):
        assert secure.metrics[split]["loss"] == pytest.approx(
            plain.metrics[split]["loss"], abs=TOLERANCE
        )
    kinds = {e.kind for e in secure.hub.envelopes}
    assert "split_paillier.OuKey" in kinds and "split_paillier.PaillierKey" not in kinds


def test_an_ou_job_runs_through_simulate_with_production_keys(tmp_path: Path) -> None:
    """The programs as deployed (3072-bit OU keys made by the scheme's own generator, the
    label holder's floor from the spec): same losses as plain SGD from the same secrets."""
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=48)
    train = {
        "optimizer": "sgd",
        "learning_rate": 0.1,
        "workers": 1,
        "precision_bits": 20,
        "epochs": 1,
        "batch_size": 32,
    }
    secrets = {"bank": b"b" * 32, "shop": b"s" * 32}

    def pinned(train: dict[str, object], folder: str) -> JobResult:
        return simulate(
            job_spec(job_dict(paths, train=train)),
            workdir=tmp_path / folder,
            job_id="ou-production-keys",
            party_secrets=secrets,
            spec_digest=b"d" * 32,
        )

    ou_train = {**train, "protection": "paillier", "he_scheme": "ou", "key_bits": 3072}
    plain, secure = pinned(train, "plain"), pinned(ou_train, "ou")
    assert secure.status == plain.status == "succeeded", secure.error
    for split in ("train", "validation"):
        assert secure.metrics[split]["loss"] == pytest.approx(
            plain.metrics[split]["loss"], abs=TOLERANCE
        )


def test_ou_below_3072_bits_is_refused_in_one_line(tmp_path: Path) -> None:
    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4}, rows=48)
    ou_train = {"protection": "paillier", "he_scheme": "ou", "key_bits": 2048}
    with pytest.raises(ConfigError, match=r"key_bits = 2048 is below 3072.*'ou'"):
        job_spec(job_dict(paths, train=ou_train))
