"""The label holder refuses a feature holder's Paillier key below 2048 bits or below the
job's `train.key_bits`: with a small key, F's encryptions (and everything L sends back
under them) would protect nothing worth the name."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.unit.split_paillier.harness as harness
from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.crypto.testing import insecure_keygen
from vfl.runtime.simulator import PartyFailedError


def test_a_production_label_holder_refuses_a_small_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "TEST_KEY_BITS", 2048)  # L as in production
    spec = job_spec(
        job_dict(
            synthetic_vertical(tmp_path, {"bank": 2, "shop": 3}, rows=60),
            train={"protection": "paillier", "workers": 1, "epochs": 1},
        )
    )
    with pytest.raises(PartyFailedError) as failed:
        harness.run_job(spec, tmp_path / "run", insecure_keygen(1024))
    message = str(failed.value)
    assert "bank" in message and "a 1024-bit modulus" in message and "2048" in message


def test_the_label_holder_holds_the_feature_holder_to_the_jobs_key_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that asks for 3072 bits gets a refusal when F uses 2048 (the control: the
    same F key against a 2048-bit job trains, in test_paillier_oracle.py's harness)."""
    monkeypatch.setattr(harness, "TEST_KEY_BITS", 2048)
    spec = job_spec(
        job_dict(
            synthetic_vertical(tmp_path, {"bank": 2, "shop": 3}, rows=60),
            train={"protection": "paillier", "workers": 1, "epochs": 1, "key_bits": 3072},
        )
    )
    with pytest.raises(PartyFailedError) as failed:
        harness.run_job(spec, tmp_path / "run", lambda bits: insecure_keygen(2048)(2048))
    assert "a 2048-bit modulus, this party accepts 3072 bits or more" in str(failed.value)
