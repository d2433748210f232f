"""Run the Paillier (or OU, `train.he_scheme`) cut-layer exchange batch by batch, timed,
outside the job programs.

The two real sides (`PaillierFeatureSide`, `PaillierLabelSide`) talk over the real
in-memory hub with real party contexts, each in its own thread as in the simulator; the
feature holder's bottom MLP and the label holder's top run around them as in training.
What this adds over `vfl.simulate` is control: key generation, pool start and each batch
are timed separately, and the sides' phase clocks and ledgers are read after each run.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from vfl.algorithms.split.models import build_bottom, build_top
from vfl.algorithms.split.paillier.feature_side import PaillierFeatureSide
from vfl.algorithms.split.paillier.label_side import PaillierLabelSide
from vfl.config.he_scheme import HeScheme
from vfl.config.job_spec import VerticalJobSpec
from vfl.config.phase_plan import Phase
from vfl.crypto.keys import KeyPair, generate_keypair
from vfl.crypto.ou import OuKeyPair, generate_ou_keypair
from vfl.runtime.context import PartyContext, party_context
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.workspace import Workspace

L, F = "bank", "bureau"


@dataclass
class DriveResult:
    keygen_s: float
    first_batch_s: float
    batch_s: list[float]
    bytes_per_batch: float
    cpu_feature: dict[str, float] = field(default_factory=dict)
    cpu_label: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        median = statistics.median(self.batch_s)
        return {
            "keygen_s": self.keygen_s,
            "pool_start_and_handshake_s": max(self.first_batch_s, 0.0),
            "batch_wall_s": self.batch_s,
            "median_batch_wall_s": median,
            "bytes_per_batch": self.bytes_per_batch,
            "cpu_s_per_batch": {
                "feature_holder": self.cpu_feature,
                "label_holder": self.cpu_label,
                "total": sum(self.cpu_feature.values()) + sum(self.cpu_label.values()),
            },
        }


def drive(
    spec: VerticalJobSpec,
    x_label: torch.Tensor,
    x_feature: torch.Tensor,
    y: torch.Tensor,
    batches: int,
    workdir: Path,
    warmup: int,
) -> DriveResult:
    """A `warmup`-row batch (handshake, pool start), then `batches` full batches."""
    t, bs = spec.train, spec.train.batch_size
    keygen_s: list[float] = []

    def timed_keygen(bits: int) -> KeyPair | OuKeyPair:
        start = time.perf_counter()
        ou = t.he_scheme is HeScheme.OU
        keys = generate_ou_keypair(bits) if ou else generate_keypair(bits)
        keygen_s.append(time.perf_counter() - start)
        return keys

    gen = torch.Generator().manual_seed(spec.job.seed)  # a benchmark: public init is fine
    bottom_f, d = build_bottom(spec, x_feature.shape[1], gen)
    bottom_l, d_l = build_bottom(spec, x_label.shape[1], gen)
    u = d
    top = build_top(spec, u, 1, gen)
    w_l = torch.nn.Linear(d_l, u)
    fside = PaillierFeatureSide(
        L, d, timed_keygen(t.key_bits), precision_bits=t.precision_bits, packing=t.packing,
        workers=t.workers, learning_rate=t.learning_rate, input_grad=True,
        batch_size=t.batch_size,
    )  # fmt: skip
    lside = PaillierLabelSide(
        F, d, u, d + d_l, precision_bits=t.precision_bits, packing=t.packing,
        workers=t.workers, learning_rate=t.learning_rate, input_grad=True, label_dp=None,
        batch_size=t.batch_size, scheme=t.he_scheme,
    )  # fmt: skip
    hub = InMemoryHub()
    ledger = MemoryLedger()

    def ctx(party: str, led: MemoryLedger) -> PartyContext:
        return party_context(
            spec, party, "bench", Phase.TRAIN, channel=hub.channel(party),
            workspace=Workspace(workdir / party), reporter=_Null(), ledger=led,
        )  # fmt: skip

    fctx, lctx = ctx(F, ledger), ctx(L, MemoryLedger())
    sizes = [warmup] + [bs] * batches
    offsets = [sum(sizes[:b]) for b in range(len(sizes))]
    starts: list[float] = []
    opt_f = torch.optim.SGD(bottom_f.parameters(), lr=t.learning_rate)
    opt_l = torch.optim.SGD([*bottom_l.parameters(), *top.parameters(), *w_l.parameters()], 0.01)
    bytes_after_warmup: list[int] = []

    def feature() -> None:
        fside.start(fctx.scoped(step="exchange"))
        fside.initial_share(fctx.scoped(step="init"), fresh=True)
        for b, rows in enumerate(sizes):
            bctx = fctx.scoped(batch=b)
            a = bottom_f(x_feature[offsets[b] : offsets[b] + rows])
            fside.forward_batch(bctx, a, training=True)
            grad = fside.backward_batch(bctx, rows)
            opt_f.zero_grad()
            a.backward(grad)
            opt_f.step()
            if b == 0:
                bytes_after_warmup.append(sum(ledger.totals("bench").values()))
                fside.clock.reset()

    def label() -> None:
        starts.append(time.perf_counter())  # the warm-up batch includes handshake, pool start
        lside.start(lctx.scoped(step="exchange"))
        lside.initial_share(lctx.scoped(step="init"))
        for b, rows in enumerate(sizes):
            if b:
                starts.append(time.perf_counter())
            bctx = lctx.scoped(batch=b)
            sl = slice(offsets[b], offsets[b] + rows)
            opt_l.zero_grad()
            z = w_l(bottom_l(x_label[sl])) + lside.forward_batch(bctx, rows, training=True)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(top(z)[:, 0], y[sl])
            loss.backward()  # type: ignore[no-untyped-call]
            lside.backward_batch(bctx)
            opt_l.step()
            if b == 0:
                lside.clock.reset()
        starts.append(time.perf_counter())

    threads = [threading.Thread(target=feature), threading.Thread(target=label)]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        fside.close()
        lside.close()
    walls = [b - a for a, b in itertools.pairwise(starts)]
    total_bytes = sum(ledger.totals("bench").values()) - bytes_after_warmup[0]
    return DriveResult(
        keygen_s=keygen_s[0],
        first_batch_s=walls[0],
        batch_s=walls[1:],
        bytes_per_batch=total_bytes / batches,
        cpu_feature={k: v / batches for k, v in fside.clock.seconds.items()},
        cpu_label={k: v / batches for k, v in lside.clock.seconds.items()},
    )


class _Null:
    def report(self, party: str, event: object) -> None:
        return None
