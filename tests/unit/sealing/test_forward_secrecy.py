"""Forward secrecy: bodies the coordinator recorded during a finished job stay closed to an
attacker who later steals every party's long-term keys and state folders — and the same
attack opens them when the per-job key is derived from the long-term key, is not erased,
or when pairwise keys come from long-term keys (the sealer before per-job keys)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.forward_secrecy_harness import Loot, bodies_opened, derived_from_long_term
from tests.sealing_harness import SPEC_JSON, Federation, federation
from vfl.crypto.sealing import FileJobKeys, JobKeys, JobKeySealer, MemoryCounters, PairwiseSealer
from vfl.crypto.sealing.key_statement import KeyStatement
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.protocol.envelope import Envelope

JOB = "job-fs"
Sealer = JobKeySealer | PairwiseSealer
Sealers = Callable[[Federation, Path], dict[str, Sealer]]


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    return federation(tmp_path_factory.mktemp("forward"), ("a", "b"))


class KeptJobKeys(FileJobKeys):
    """Broken: the job ends but its key file stays."""

    def erase(self, job_id: str) -> None:
        pass


class DerivedJobKeys(FileJobKeys):
    """Broken: the 'fresh' key is a function of the long-term key and the job id."""

    def __init__(self, jobs_root: Path, long_term: bytes) -> None:
        super().__init__(jobs_root)
        self.long_term = long_term

    def load_or_create(self, job_id: str) -> bytes:
        return derived_from_long_term(self.long_term, job_id)


def _long_term(fed: Federation, party: str) -> bytes:
    return fed.keys[party]._private.private_bytes_raw()


def _job_sealers(make: Callable[[Federation, str, Path], JobKeys]) -> Sealers:
    def build(fed: Federation, root: Path) -> dict[str, Sealer]:
        sealers: dict[str, Sealer] = {}
        for p in ("a", "b"):
            cert, key = (fed.pki / f"{p}.pem").read_bytes(), (fed.pki / f"{p}.key").read_bytes()
            keys = make(fed, p, root / p / "jobs")
            sealers[p] = JobKeySealer(p, fed.ca, MemoryCounters(), keys, cert, key)
        return sealers

    return build


def _long_term_sealers(fed: Federation, root: Path) -> dict[str, Sealer]:
    return {p: fed.sealer(p) for p in ("a", "b")}


def _run_job(fed: Federation, sealers: dict[str, Sealer]) -> tuple[list[Envelope], Loot]:
    """Admit, exchange a few bodies each way (each opened by its receiver), forget the job;
    return what the coordinator recorded."""
    digest = job_digest(SPEC_JSON)
    published: list[KeyStatement] = list(fed.statements.values())  # long-term, from Hello
    published += [
        s.job_statement(JOB, digest) for s in sealers.values() if isinstance(s, JobKeySealer)
    ]
    for s in sealers.values():
        s.admit(JOB, digest, ["a", "b"], published)
    recorded = []
    for i in range(3):
        for src, dst in (("a", "b"), ("b", "a")):
            plain = Envelope(JOB, src, dst, "split.Activations", f"train#{i}", b"row %d" % i)
            sealed = sealers[src].seal(plain)
            assert sealers[dst].open(sealed) == plain  # the parties themselves can read it
            recorded.append(sealed)
    for s in sealers.values():
        s.forget(JOB)
    return recorded, Loot((), (), tuple(published))


def _stolen(fed: Federation, root: Path, loot: Loot) -> Loot:
    long_term = tuple(_long_term(fed, p) for p in ("a", "b"))
    return Loot(tuple(root / p for p in ("a", "b")), long_term, loot.publics)


def test_recorded_bodies_stay_closed_after_long_term_keys_and_state_leak(
    fed: Federation, tmp_path: Path
) -> None:
    sealers = _job_sealers(lambda f, p, jobs: FileJobKeys(jobs))(fed, tmp_path)
    recorded, seen = _run_job(fed, sealers)
    assert bodies_opened(recorded, _stolen(fed, tmp_path, seen)) == 0


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(_job_sealers(lambda f, p, jobs: KeptJobKeys(jobs)), id="key-not-erased"),
        pytest.param(
            _job_sealers(lambda f, p, jobs: DerivedJobKeys(jobs, _long_term(f, p))),
            id="key-derived-from-long-term-key",
        ),
        pytest.param(_long_term_sealers, id="pair-key-from-long-term-keys"),
    ],
)
def test_the_same_attack_opens_every_body_of_a_broken_variant(
    fed: Federation, tmp_path: Path, broken: Sealers
) -> None:
    recorded, seen = _run_job(fed, broken(fed, tmp_path))
    assert bodies_opened(recorded, _stolen(fed, tmp_path, seen)) == len(recorded)
