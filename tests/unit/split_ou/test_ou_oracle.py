"""`he_scheme = "ou"` as deployed: production key sizes, and the spec's floor.

The small-key oracle for OU is tests/unit/split_paillier/test_paillier_oracle.py
(parametrized by scheme); here the programs make their own 3072-bit keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.api import simulate
from vfl.errors import ConfigError
from vfl.result import JobResult

TOLERANCE = 1e-5


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
