"""The party secret: made once per (job, party), kept 0600, and a PRF of (purpose, scope)."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.config.job_spec import JobSpec
from vfl.config.loading import parse_job, parse_job_json
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.runtime.context import PartyContext, party_context
from vfl.runtime.events import NullReporter
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.party_secret import PartySecret, secret_file
from vfl.runtime.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "breast_paillier" / "job.toml"


def _secret(
    root: Path, job: str = "job-1", party: str = "bank", spec: bytes = b"spec-digest"
) -> PartySecret:
    return PartySecret.load(Workspace(root), job, party, spec)


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
        value(_secret(tmp_path / "a", spec=b"another-spec-digest")),
        value(_secret(tmp_path / "b")),  # same job and party, another machine: another secret
    }
    assert len(values) == 7
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


def _ctx(root: Path, spec: JobSpec) -> PartyContext:
    return party_context(
        spec,
        "bank",
        "job-1",
        "train",
        channel=InMemoryHub().channel("bank"),
        workspace=Workspace(root),
        reporter=NullReporter(),
        ledger=MemoryLedger(),
    )


def test_the_same_job_id_with_another_spec_gives_other_streams(tmp_path: Path) -> None:
    """A job id run again with a changed spec (same workspace, so the same stored secret)
    must not repeat a mask: the streams are bound to the spec digest."""
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=20)
    spec = job_spec(job_dict(paths))
    changed = job_spec(job_dict(paths, train={"epochs": 3}))
    root = tmp_path / "ws"

    def first_values(s: JobSpec) -> list[int]:
        stream = PartySecret.of(_ctx(root, s)).derive("masks", "train/epoch=0/batch=0")
        return [stream.bits(i, 128) for i in range(4)]

    assert first_values(spec) == first_values(spec)  # the control: a replay repeats them
    assert first_values(spec) != first_values(changed)
    assert len(list((root / "private").iterdir())) == 1  # one stored secret for both


def test_the_spec_digest_is_the_one_sealing_binds_keys_to() -> None:
    """In deployment the sealer salts with the spec JSON as the coordinator sent it; the
    party secret digests the parsed spec re-dumped: both must be the same bytes."""
    spec = parse_job(tomllib.loads(SAMPLE.read_text()), source="job.toml")
    stored = spec.model_dump_json()  # what the coordinator keeps and sends (lifecycle.submit)
    received = parse_job_json(stored, source="stored")  # what the party node runs with
    assert job_digest(received.model_dump_json()) == job_digest(stored)
