"""Both sides of the transfer Paillier exchange in two threads over an in-memory hub.

Small keys (vfl.crypto.testing, 512 bits) and fixed party secrets; every envelope is
recorded by the hub and, given a transcript, every message each party received is kept
decoded, so attack tests work on exactly what a party saw.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import RecordingHub
from vfl.algorithms.transfer.paillier import ClassSummary, HeadGradient, SourceSide, TargetSide
from vfl.crypto.keys import KeyPair
from vfl.crypto.testing import insecure_keypair
from vfl.runtime.context import PartyContext
from vfl.runtime.events import Event
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.party_secret import secret_file
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace

A, B = "bank", "shop"
KEY_BITS = 512
F64 = NDArray[np.float64]
DIGEST = hashlib.sha256(b"transfer-harness").digest()
"""The spec digest both parties' secrets are bound to in these tests."""


class _Quiet:
    def report(self, party: str, event: Event) -> None:
        pass


@dataclass
class Batch:
    """One batch of overlap rows as each side holds it."""

    h_a: F64
    u_a: F64
    labels: F64
    summary: ClassSummary
    h_b: F64
    u_b: F64


def random_batch(rows: int, p_a: int, p_b: int, width: int, seed: int = 0) -> Batch:
    """Heads u = h·W + b with random W, b: plausible magnitudes for standardised data."""
    rng = np.random.default_rng(seed)
    h_a, h_b = rng.normal(size=(rows, p_a)), rng.normal(size=(rows, p_b))
    u_a = h_a @ rng.normal(size=(p_a, width)) / np.sqrt(p_a) + 0.1 * rng.normal(size=width)
    u_b = h_b @ rng.normal(size=(p_b, width)) / np.sqrt(p_b) + 0.1 * rng.normal(size=width)
    labels = np.where(rng.random(rows) < 0.5, -1.0, 1.0)
    return Batch(h_a, u_a, labels, ClassSummary.of_rows(h_a, u_a, labels / rows), h_b, u_b)


@dataclass
class Pair:
    """A source and a target side, started, over one recording hub."""

    source: SourceSide
    target: TargetSide
    ctx: dict[str, PartyContext]
    hub: RecordingHub
    keys: dict[str, KeyPair] = field(default_factory=dict)

    def exchange(self, batch: Batch, scope: dict[str, object]) -> tuple[HeadGradient, HeadGradient]:
        """One batch on both sides at once: (A's gradient, B's gradient)."""
        out: dict[str, HeadGradient] = {}
        runs: dict[str, Callable[[], HeadGradient]] = {
            A: lambda: self.source.exchange(
                self.ctx[A].scoped(**scope), batch.h_a, batch.u_a, batch.labels, batch.summary
            ),
            B: lambda: self.target.exchange(self.ctx[B].scoped(**scope), batch.h_b, batch.u_b),
        }
        both(runs, out)
        return out[A], out[B]

    def close(self) -> None:
        self.source.close()
        self.target.close()


def both(runs: dict[str, Callable[[], Any]], out: dict[str, Any]) -> None:
    """Run each party's step in its own thread; re-raise the first failure."""
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            out[name] = runs[name]()
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def start_pair(
    tmp_path: Path,
    width: int,
    max_rows: int,
    gamma: float = 1.0,
    f: int = 16,
    transcript: Transcript | None = None,
    keys: dict[str, KeyPair] | None = None,
    min_key_bits: int = KEY_BITS,
    target_width: int | None = None,
    workers: int = 1,
) -> Pair:
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    paths = synthetic_vertical(tmp_path / "data", {A: 2, B: 2}, rows=8)
    spec = job_spec(job_dict(paths, train={"timeout_s": 120}))
    keys = keys or {A: insecure_keypair(KEY_BITS), B: insecure_keypair(KEY_BITS + 8)}
    hub = RecordingHub()
    ctx = {}
    for party in (A, B):
        ws = Workspace(tmp_path / party)
        ws.private(secret_file("job"), _fixed_secret(party))
        channel = hub.channel(party)
        ctx[party] = PartyContext(
            party=party,
            role=party,
            job=spec,
            job_id="job",
            channel=channel if transcript is None else transcript.channel(channel),
            workspace=ws,
            reporter=_Quiet(),
            ledger=MemoryLedger(),
            protection="paillier",
            scope="train",
            spec_digest=DIGEST,
        )
    common: dict[str, Any] = {
        "width": width,
        "max_rows": max_rows,
        "alignment_weight": gamma,
        "precision_bits": f,
        "workers": workers,
        "min_key_bits": min_key_bits,
    }
    source = SourceSide(B, keys[A], **common)
    target = TargetSide(A, keys[B], **{**common, "width": target_width or width})
    both(
        {
            A: lambda: source.start(ctx[A].scoped(step="exchange")),
            B: lambda: target.start(ctx[B].scoped(step="exchange")),
        },
        {},
    )
    return Pair(source, target, ctx, hub, keys)


def _fixed_secret(party: str) -> Callable[[], bytes]:
    """A party secret that depends on the name only: runs in other folders agree."""
    return lambda: hashlib.sha256(party.encode()).digest()
