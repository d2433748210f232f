"""Run PSI programs for several parties in one process, the way the simulator does.

RSA programs run with real 2048-bit keys (psi.rsa.keys.MIN_BITS cannot be lowered); one
takes ~40 ms to make.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from psi.ecdh.feature_holder import EcdhFeatureHolder
from psi.ecdh.label_holder import EcdhLabelHolder
from psi.ids import IdSource, MemoryIds
from psi.rr22.feature_holder import Rr22FeatureHolder
from psi.rr22.label_holder import Rr22LabelHolder
from psi.rr22.native import require_fastpsi
from psi.rsa.feature_holder import RsaFeatureHolder
from psi.rsa.label_holder import RsaLabelHolder
from vfl.config.job_spec import (
    AlignProtocol,
    AlignSpec,
    JobSection,
    VerticalJobSpec,
    VerticalPartySpec,
)
from vfl.errors import ConfigError
from vfl.runtime.context import party_context
from vfl.runtime.events import AlignReport, Event
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.program import Program
from vfl.runtime.simulator import PartyRun, run_phase
from vfl.runtime.workspace import Workspace

Factory = Callable[[str, IdSource], Program]


def _fastpsi_missing() -> str | None:
    try:
        require_fastpsi()
    except ConfigError as exc:
        if os.environ.get("VFL_REQUIRE_FASTPSI") == "1":
            raise  # CI (.ci/run): a missing spu fails the run instead of skipping its tests
        return str(exc)
    return None


needs_fastpsi = pytest.mark.skipif(_fastpsi_missing() is not None, reason=f"{_fastpsi_missing()}")
"""For tests that run spu: skipped, with the install line as the reason, only where it is
not installed (`make fastpsi` does, and `make test` runs it)."""


def ecdh(role: str, source: IdSource, workers: int | None = 1) -> Program:
    if role == "label_holder":
        return EcdhLabelHolder(source, workers)
    return EcdhFeatureHolder(source, workers)


def rsa(role: str, source: IdSource, workers: int | None = 1) -> Program:
    if role == "label_holder":
        return RsaLabelHolder(source, workers)
    return RsaFeatureHolder(source, workers)


def rr22(role: str, source: IdSource, workers: int | None = 1) -> Program:
    if role == "label_holder":
        return Rr22LabelHolder(source, workers)
    return Rr22FeatureHolder(source, workers)


class Collect:
    def __init__(self) -> None:
        self.events: dict[str, list[Event]] = {}

    def report(self, party: str, event: Event) -> None:
        self.events.setdefault(party, []).append(event)

    def align(self, party: str) -> AlignReport:
        return next(e for e in self.events[party] if isinstance(e, AlignReport))


@dataclass
class Outcome:
    aligned: dict[str, list[str] | None]
    reports: dict[str, AlignReport]
    ledgers: dict[str, MemoryLedger]


def job(
    names: Sequence[str],
    protocol: AlignProtocol = "ecdh",
    cardinality_only: bool = False,
    key_bits: int = 2048,
) -> VerticalJobSpec:
    parties = [
        VerticalPartySpec(
            name=name,
            role="label_holder" if k == 0 else "feature_holder",
            data=f"{name}.csv",
            id_column="id",
            label_column="y" if k == 0 else None,
        )
        for k, name in enumerate(names)
    ]
    # the protocol itself, empty and one-row intersections included: no floor
    align = AlignSpec(
        protocol=protocol,
        cardinality_only=cardinality_only,
        key_bits=key_bits,
        min_intersection=0,
    )
    return VerticalJobSpec(job=JobSection(name="psi-test"), parties=parties, align=align)


def run_psi(
    sets: Mapping[str, Sequence[str]],
    root: Path,
    factory: Callable[..., Program] = ecdh,
    cardinality_only: bool = False,
    sources: dict[str, IdSource] | None = None,
    protocol: AlignProtocol | None = None,
    key_bits: int = 2048,
    **kwargs: object,
) -> Outcome:
    """The first party of `sets` is the label holder; returns what each party stored."""
    names = list(sets)
    by_factory: dict[object, AlignProtocol] = {rsa: "rsa", rr22: "rr22"}
    proto: AlignProtocol = protocol or by_factory.get(factory, "ecdh")
    spec = job(names, proto, cardinality_only, key_bits)
    hub = InMemoryHub()
    collect = Collect()
    ledgers = {n: MemoryLedger() for n in names}
    workspaces = {n: Workspace(root / n) for n in names}
    runs = {}
    for name in names:
        source = (sources or {}).get(name) or MemoryIds(f"{name}.csv[id]", list(sets[name]))
        ctx = party_context(
            spec,
            name,
            "job-1",
            "align",
            channel=hub.channel(name),
            workspace=workspaces[name],
            reporter=collect,
            ledger=ledgers[name],
        )
        runs[name] = PartyRun(factory(ctx.role, source, **kwargs), ctx)
    run_phase(hub, "job-1", runs)
    assert hub.pending("job-1") == 0
    aligned = {
        n: list(ws.load_alignment()) if ws.has_alignment() else None for n, ws in workspaces.items()
    }
    return Outcome(aligned, {n: collect.align(n) for n in names}, ledgers)


def oracle(sets: Mapping[str, Sequence[str]]) -> list[str]:
    common = set.intersection(*(set(s) for s in sets.values()))
    return sorted(common)
