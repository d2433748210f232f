"""Torch's lazy imports, paid before a job needs them.

The first optimizer a process builds makes torch import `torch._dynamo` (sympy and some
800 modules: 3-6 s of CPU on the shared 2-core box). `vfl simulate` pays that once for all
its parties; a party node paid it inside the first round of its first job, and the round
waited for the slowest node (10 nodes on 2 cores: round 0 took ~30 s, later rounds ~2.5 s).
`vfl party serve` warms up before it connects instead: a connected node is ready, and the
cost moves to the node's start, which a deployment pays once for many jobs. Nothing a job
computes depends on it.
"""

from __future__ import annotations

import logging
import time

import torch

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Build and step a throwaway optimizer, so torch's first-use imports are done."""
    start = time.perf_counter()
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.0)
    optimizer.zero_grad()
    param.sum().backward()  # type: ignore[no-untyped-call]
    optimizer.step()
    log.info("torch warmed up in %.1f s", time.perf_counter() - start)
