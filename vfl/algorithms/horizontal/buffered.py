"""Buffered asynchronous aggregation (Nguyen et al. 2022, "FedBuff"), for parties that are
slow or often offline: nobody waits for a round.

    P (each, independently)                     A
    |<-- RoundStart(v, model x_v) --------------|  at start, and after each of P's
    |    train from x_v                          |  updates that A has used
    |-- AsyncUpdate(v, contribution) ---------->|  buffered as it arrives (any party)
    |                                            |  every K updates: weight each by
    |                                            |  s(τ) = 1/√(1 + τ), τ = version now − v,
    |                                            |  take the strategy's step, version + 1
    |<-- RoundStart(final, x) ------------------|  after `rounds` steps

All messages of a party live in one scope ("async"), in order, so a party's k-th update is
one sequence number: an update is used once, and one A has not used when it stops is never
read. The aggregator waits on whichever party answers first (`PartyContext.poll`).

Not with secure aggregation (the spec refuses it: updates of different versions arrive one
by one, while masks cancel only in a cohort's sum). Arrival order decides which updates a
step combines, so a run is not replayed exactly: a restarted aggregator cannot resume an
asynchronous job mid-way (the replay guard stops it with a one-line error).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from vfl.algorithms.horizontal import round_plan
from vfl.algorithms.horizontal.messages import AsyncUpdate, RoundStart
from vfl.algorithms.horizontal.round_sum import AGGREGATOR
from vfl.algorithms.horizontal.strategies import Strategy, Vector
from vfl.config.job_spec import HorizontalJobSpec
from vfl.errors import ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.round_loop import RoundLoop, reporting

SCOPE = "async"
POLL_S = 0.05
"""How long one wait on one party lasts before the aggregator looks at the next one."""


def staleness_weight(staleness: int) -> float:
    return 1.0 / math.sqrt(1.0 + staleness)


def buffer_size(spec: HorizontalJobSpec) -> int:
    return spec.train.buffer_size or max(1, len(spec.parties) // 2)


class _Model:
    """The global model the steps advance. Never checkpointed: arrival order decides what
    a step combines, so no step can be replayed."""

    def __init__(self, params: Vector) -> None:
        self.params = params

    def state(self) -> dict[str, Any]:
        return {"params": self.params}

    def load_state(self, saved: dict[str, Any]) -> None:
        self.params = saved["params"]


def aggregate(
    ctx: PartyContext, spec: HorizontalJobSpec, strategy: Strategy, params: Vector
) -> Vector:
    """Run `rounds` buffered steps, send every party the final model, and return it."""
    scoped = ctx.scoped(phase=SCOPE)
    parties = sorted(p.name for p in spec.parties)
    size = params.size + round_plan.EXTRA
    for party in parties:
        scoped.send(party, RoundStart(0, True, False, (), params))
    k, rounds, model = buffer_size(spec), spec.train.rounds, _Model(params)

    def step(version: int) -> dict[str, float]:
        buffered = _collect(scoped, parties, size, version, k, spec.train.round_timeout_s)
        total, weight, loss, samples = np.zeros(params.size), 0.0, 0.0, 0.0
        for _, update in buffered:
            s = staleness_weight(version - update.version)
            total += s * update.vector[: params.size]
            weight += s * float(update.vector[params.size])
            loss += float(update.vector[params.size + 1])
            samples += float(update.vector[params.size + 2])
        model.params = strategy.step(model.params, total, weight)
        stale = [version - u.version for _, u in buffered]
        record = {"parties": float(len(buffered)), "mean_staleness": float(np.mean(stale))}
        if samples:
            record["train_loss"] = loss / samples
        if version + 1 < rounds:
            for party, _ in buffered:  # idle now: start them on the new model
                scoped.send(party, RoundStart(version + 1, True, False, (), model.params))
        return record

    RoundLoop(rounds, model, None).run(step, reporting(ctx, "train", rounds))
    for party in parties:
        scoped.send(party, RoundStart(rounds, False, True, (), model.params))
    return model.params


def _collect(
    ctx: PartyContext,
    parties: Sequence[str],
    size: int,
    version: int,
    k: int,
    timeout_s: float,
) -> list[tuple[str, AsyncUpdate]]:
    """The next k updates, whoever sends them; ProtocolError if none comes in time."""
    buffered: list[tuple[str, AsyncUpdate]] = []
    deadline = time.monotonic() + timeout_s
    start = version % len(parties)  # rotate who is looked at first: nobody is starved
    order = [*parties[start:], *parties[:start]]
    while len(buffered) < k:
        arrived = False
        for party in order:
            update = ctx.poll(party, AsyncUpdate, POLL_S)
            if update is None:
                continue
            if update.vector.shape != (size,) or not 0 <= update.version <= version:
                raise ProtocolError(f"asynchronous update from {party}: wrong length or version")
            buffered.append((party, update))
            arrived = True
            if len(buffered) == k:
                break
        if arrived:
            deadline = time.monotonic() + timeout_s
        elif time.monotonic() > deadline:
            raise ProtocolError(
                f"asynchronous step {version}: no update for {timeout_s:.0f} s "
                f"(train.round_timeout_s) with {len(buffered)} of {k} buffered"
            )
    return buffered


def participate(
    ctx: PartyContext,
    train: Callable[[Vector, int], Vector],
) -> Vector:
    """A party's side: train on every model A sends until the final one, which it returns.
    `train(params, version)` returns this party's summed vector (contribution and extras)."""
    scoped = ctx.scoped(phase=SCOPE)
    while True:
        order = scoped.recv(AGGREGATOR, RoundStart)
        if order.final:
            return np.asarray(order.params, dtype=np.float64)
        scoped.send(AGGREGATOR, AsyncUpdate(order.round, train(order.params, order.round)))
