"""The party secret: made once per (job, party), kept 0600, and a PRF of (purpose, scope)."""

from __future__ import annotations

import stat
from pathlib import Path

from vfl.runtime.party_secret import PartySecret, secret_file
from vfl.runtime.workspace import Workspace


def _secret(root: Path, job: str = "job-1", party: str = "bank") -> PartySecret:
    return PartySecret.load(Workspace(root), job, party)


def test_the_secret_is_made_once_kept_private_and_reloaded(tmp_path: Path) -> None:
    first = _secret(tmp_path).derive("masks", "train/epoch=0/batch=0")
    again = _secret(tmp_path).derive("masks", "train/epoch=0/batch=0")  # a restarted program
    assert [first.bits(i, 256) for i in range(4)] == [again.bits(i, 256) for i in range(4)]
    path = tmp_path / "private" / secret_file("job-1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(path.read_bytes()) == 32
    assert "hidden" in repr(_secret(tmp_path)) and "hidden" in repr(first)


def test_streams_are_independent_across_purpose_scope_party_job_and_workspace(
    tmp_path: Path,
) -> None:
    base = _secret(tmp_path / "a")

    def value(secret: PartySecret, purpose: str = "e1", scope: str = "train/batch=0") -> int:
        return secret.derive(purpose, scope).bits(0, 128)

    values = {
        value(base),
        value(base, purpose="e2"),
        value(base, scope="train/batch=1"),
        value(_secret(tmp_path / "a", party="shop")),
        value(_secret(tmp_path / "a", job="job-2")),
        value(_secret(tmp_path / "b")),  # same job and party, another machine: another secret
    }
    assert len(values) == 6
    stream = base.derive("e1", "train/batch=0")
    assert len({stream.bits(i, 128) for i in range(64)}) == 64


def test_values_have_the_requested_range_and_look_uniform(tmp_path: Path) -> None:
    stream = _secret(tmp_path).derive("noise", "s")
    bound = 1000003
    draws = [stream.below(i, bound) for i in range(4000)]
    assert all(0 <= d < bound for d in draws)
    # 4000 uniform draws: the share below bound/2 is 0.5 ± 0.04 with probability > 0.999
    assert abs(sum(d < bound // 2 for d in draws) / len(draws) - 0.5) < 0.04
    bits = [stream.bits(i, 5) for i in range(2000)]
    assert set(bits) == set(range(32))
    gauss = stream.generator().normal(0, 1, 4000)
    assert abs(float(gauss.std()) - 1) < 0.06
    assert (stream.generator().normal(0, 1, 8) == gauss[:8]).all()
