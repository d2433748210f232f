"""The aggregator of a horizontal job: the coordinator's program (participant
`coordinator`), numpy only. It never sees a row, and under secure aggregation never one
party's update either: only each round's sums (messages.py).

Train: check every party has the same feature columns; sum the feature statistics for the
federation's scaling; then, per round, start the sampled parties from the global model,
sum their contributions, and take the strategy's step (or a robust rule's, in the clear).
After each round the model and the strategy's state are checkpointed, so a resumed
aggregator continues from the last finished round. Evaluate: fold each party's metrics into
per-party and sample-weighted federated metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vfl.algorithms.horizontal import buffered, round_plan
from vfl.algorithms.horizontal.client_dp import epsilon
from vfl.algorithms.horizontal.messages import (
    PERSONAL,
    STATS_ROUND,
    LocalMetrics,
    PrivacySpent,
    RoundStart,
    Scaling,
    Schema,
    metric_splits,
)
from vfl.algorithms.horizontal.robust import RobustParams, aggregate
from vfl.algorithms.horizontal.round_sum import SumSettings, aggregate_sum
from vfl.algorithms.horizontal.strategies import Strategy, Vector
from vfl.algorithms.horizontal.weights import initial_params
from vfl.config.horizontal_spec import Personalization
from vfl.config.job_spec import HorizontalJobSpec, horizontal
from vfl.errors import DataValidationError, ProtocolError
from vfl.runtime.checkpoint_file import ArrayCheckpoint
from vfl.runtime.context import PartyContext
from vfl.runtime.events import MetricsReport, PrivacyReport
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.program import Program
from vfl.runtime.round_loop import RoundLoop, reporting

CHECKPOINT = "aggregator"


class _ServerState:
    """What the aggregator carries from round to round: the global model, the share of
    parties that survived every round (client DP's accounting) and the strategy's state."""

    def __init__(self, params: Vector, strategy: Strategy) -> None:
        self.params, self.survivors, self.strategy = params, 1.0, strategy

    def state(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "survivors": np.array(self.survivors),
            **self.strategy.state(),
        }

    def load_state(self, saved: dict[str, Any]) -> None:
        self.params = saved.pop("params")
        self.survivors = float(saved.pop("survivors"))
        self.strategy.load_state(saved)


class HorizontalTrainAggregator(Program):
    """Runs the rounds of a horizontal job's train phase."""

    phase = "train"

    def run(self, ctx: PartyContext) -> None:
        spec = horizontal(ctx.job)
        parties = sorted(p.name for p in spec.parties)
        features = _schema(ctx.scoped(step="schema"), parties)
        scaling = _scaling(ctx.scoped(round=STATS_ROUND), spec, parties, len(features))
        strategy = round_plan.strategy(spec)
        server = _ServerState(initial_params(spec, len(features)), strategy)
        rounds = spec.train.rounds
        loop = RoundLoop(rounds, server, ArrayCheckpoint(ctx.workspace, CHECKPOINT, "round"))
        loop.resume()
        if spec.train.asynchronous:
            params = buffered.aggregate(ctx, spec, strategy, server.params)
            self._finish(ctx, spec, params, scaling, features, 1.0, final_sent=True)
            return
        dp = round_plan.dp_plan(spec)
        secure = spec.train.secure_aggregation

        def play(r: int) -> dict[str, float]:
            params = server.params
            rctx = ctx.scoped(round=r)
            chosen = round_plan.sample(spec, r)
            for party in parties:
                sampled = party in chosen
                body = params if sampled else np.zeros(0)
                rctx.send(party, RoundStart(r, sampled, False, tuple(chosen), body))
            settings = SumSettings(
                secure,
                round_plan.UPDATE_BITS,
                spec.train.round_timeout_s,
                spec.train.compression,
                grid=round_plan.grid(spec),
            )
            received = ctx.ledger.totals(ctx.job_id)["received"]
            result = aggregate_sum(rctx, chosen, params.size + round_plan.EXTRA, settings)
            received = ctx.ledger.totals(ctx.job_id)["received"] - received
            counted = len(result.counted)
            if counted < spec.train.min_parties:
                raise ProtocolError(
                    f"round {r}: {counted} of {len(chosen)} sampled parties sent an update, "
                    f"fewer than train.min_parties = {spec.train.min_parties}"
                )
            total, weight = result.total[: params.size], float(result.total[params.size])
            if spec.train.robust is not None:
                robust = RobustParams(spec.train.trim, spec.train.byzantine)
                # each party's own update (its contribution over its weight); the weights
                # themselves are ignored: a poisoning party would just claim a large one
                deltas = [v[: params.size] / v[params.size] for v in result.vectors.values()]
                total, weight = aggregate(spec.train.robust, deltas, robust), 1.0
            if dp is not None and not secure:  # central noise: the aggregator adds it all
                rng = np.random.default_rng(_noise_seed(ctx, r))
                total = total + rng.normal(0.0, dp.mechanism.central_noise_std(), total.shape)
            if dp is not None and secure:
                server.survivors = min(server.survivors, counted / dp.mechanism.expected_parties)
            server.params = strategy.step(params, total, weight)
            record = {"parties": float(counted), "bytes_received": float(received)}
            samples = float(result.total[params.size + 2])
            if samples > 0:
                record["train_loss"] = float(result.total[params.size + 1]) / samples
            return record

        loop.run(play, reporting(ctx, "train", rounds))
        self._finish(ctx, spec, server.params, scaling, features, server.survivors)

    @staticmethod
    def _finish(
        ctx: PartyContext,
        spec: HorizontalJobSpec,
        params: Vector,
        scaling: tuple[Vector, Vector],
        features: tuple[str, ...],
        survivors: float,
        final_sent: bool = False,
    ) -> None:
        """Send every party the final model (unless sent), keep it, and report the ε each
        mechanism spent."""
        parties = sorted(p.name for p in spec.parties)
        final = ctx.scoped(round=spec.train.rounds)
        for party in parties if not final_sent else ():
            final.send(party, RoundStart(spec.train.rounds, False, True, (), params))
        ctx.workspace.save_model_arrays(
            {"params": params, "mean": scaling[0], "scale": scaling[1]},
            {
                "mode": "horizontal",
                "features": list(features),
                "parties": parties,
                **round_plan.architecture(spec),
            },
        )
        if spec.privacy.dp_sgd:
            spent_by = {f"record_level@{p}": final.recv(p, PrivacySpent).epsilon for p in parties}
            ctx.report(_dp_sgd_privacy(spec, spent_by))
        dp = round_plan.dp_plan(spec)
        if dp is not None:
            spent = epsilon(
                dp.mechanism.noise_multiplier, dp.sampling, dp.rounds, dp.delta, survivors
            )
            ctx.report(_privacy(spec, dp.mechanism.noise_multiplier, spent))


class HorizontalEvaluateAggregator(Program):
    """Folds each party's metrics of the final model: per party and sample-weighted."""

    phase = "evaluate"

    def run(self, ctx: PartyContext) -> None:
        spec = horizontal(ctx.job)
        per_split: dict[str, list[tuple[str, LocalMetrics]]] = {}
        personalized = spec.train.personalization is not Personalization.NONE
        for party in sorted(p.name for p in spec.parties):
            for split in metric_splits(personalized):
                got = ctx.scoped(split=split).recv(party, LocalMetrics)
                if got.split != split or len(got.names) != got.values.size:
                    raise ProtocolError(f"metrics from {party}: malformed {split} metrics")
                per_split.setdefault(split, []).append((party, got))
        for split, reports in per_split.items():
            for party, got in reports:
                values = dict(zip(got.names, got.values.tolist(), strict=True))
                base, personal = split.removesuffix(PERSONAL), split.endswith(PERSONAL)
                ctx.report(MetricsReport(f"{base}@{party}{PERSONAL if personal else ''}", values))
            ctx.report(MetricsReport(split, _weighted(reports)))


def _weighted(reports: list[tuple[str, LocalMetrics]]) -> dict[str, float]:
    """Σ nᵢ·mᵢ / Σ nᵢ per metric, over the parties that could compute it (AUC is undefined
    on a party whose held-out rows have one class only)."""
    out = {}
    for name in sorted({n for _, got in reports for n in got.names}):
        pairs = [
            (got.samples, float(got.values[got.names.index(name)]))
            for _, got in reports
            if name in got.names
        ]
        total = sum(n for n, _ in pairs)
        if total:
            out[name] = sum(n * v for n, v in pairs) / total
    return out


def _schema(ctx: PartyContext, parties: list[str]) -> tuple[str, ...]:
    """The feature columns, the same at every party (else a one-line error naming it)."""
    first: tuple[str, ...] | None = None
    for party in parties:
        got = ctx.recv(party, Schema).features
        if first is None:
            first, reference = got, party
        elif got != first:
            missing = sorted(set(first) - set(got)) or sorted(set(got) - set(first))
            column = missing[0] if missing else "(column order)"
            raise DataValidationError(
                f"party {party}: feature columns differ from {reference}'s at {column!r}; "
                "every sample holder needs the same feature columns, in the same order"
            )
    assert first is not None
    return first


def _scaling(
    ctx: PartyContext, spec: HorizontalJobSpec, parties: list[str], width: int
) -> tuple[Vector, Vector]:
    """The federation's feature mean and scale from one sum of [Σx, Σx², n] (identity if
    standardize = false)."""
    if not spec.train.standardize:
        mean, scale = np.zeros(width), np.ones(width)
    else:
        settings = SumSettings(
            spec.train.secure_aggregation, round_plan.STATS_BITS, spec.train.round_timeout_s
        )
        total = aggregate_sum(ctx, parties, 2 * width + 1, settings).total
        rows = total[-1]
        if rows <= 0:
            raise ProtocolError("feature statistics: no training rows were counted")
        mean = total[:width] / rows
        variance = np.maximum(total[width : 2 * width] / rows - mean**2, 0.0)
        scale = np.where(variance > 0, np.sqrt(variance), 1.0)
    for party in parties:
        ctx.send(party, Scaling(mean, scale))
    return mean, scale


def _noise_seed(ctx: PartyContext, round_index: int) -> int:
    """Central DP noise from the aggregator's own secret: unknown to every party, and the
    same if a resumed aggregator draws round `round_index` again."""
    return PartySecret.of(ctx).derive("horizontal/central-noise", str(round_index)).bits(0, 63)


def _dp_sgd_privacy(spec: HorizontalJobSpec, spent_by: dict[str, float]) -> PrivacyReport:
    privacy = spec.privacy
    return PrivacyReport(
        target_epsilon=privacy.dp_sgd_epsilon,
        delta=privacy.delta,
        clip=privacy.dp_sgd_clip,
        noise_multiplier=privacy.dp_sgd_noise_multiplier or 0.0,
        epochs=spec.train.rounds * spec.train.local_epochs,
        epsilon=spent_by,
        mechanism="dp_sgd",
    )


def _privacy(spec: HorizontalJobSpec, z: float, spent: float) -> PrivacyReport:
    privacy = spec.privacy
    return PrivacyReport(
        target_epsilon=privacy.client_dp_epsilon,
        delta=privacy.delta,
        clip=privacy.clip,
        noise_multiplier=z,
        epochs=spec.train.rounds,
        epsilon={"client_level": spent},
        mechanism="client_dp",
    )
