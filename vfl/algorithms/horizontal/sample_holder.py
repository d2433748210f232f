"""A sample holder of a horizontal job: trains the global model on its own rows each round
it is sampled for and adds its contribution to the round's sum (messages.py).

Its rows never leave it; what leaves is its feature column names, its share of the
feature statistics and of each round's contribution, masked under secure aggregation,
and (evaluate) its own metrics. The held-out rows are chosen from the public job seed and
the party's name; batch order and every mask or noise draw come from the party's own
secret, so a resumed party sends exactly what it sent before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vfl.algorithms.horizontal import buffered, round_plan
from vfl.algorithms.horizontal.compression import TopK
from vfl.algorithms.horizontal.ditto import PersonalModel, load_personal, personal_model

if TYPE_CHECKING:
    from vfl.algorithms.horizontal.dp_sgd import DpSgdTrainer
from vfl.algorithms.horizontal.local_training import (
    LocalConfig,
    LocalResult,
    build_model,
    flatten,
    load_flat,
    predictions,
    train_local,
)
from vfl.algorithms.horizontal.messages import (
    PERSONAL,
    STATS_ROUND,
    LocalMetrics,
    PrivacySpent,
    RoundStart,
    Scaling,
    Schema,
)
from vfl.algorithms.horizontal.round_sum import AGGREGATOR, SumSettings, party_sum
from vfl.algorithms.horizontal.strategies import Vector
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.algorithms.split.schedule import BatchSchedule, derive_seed
from vfl.config.horizontal_spec import Compression, Personalization, StrategyName
from vfl.config.job_spec import HorizontalJobSpec, horizontal
from vfl.dataset import PartyDataset
from vfl.errors import ProtocolError
from vfl.metrics import compute_metrics
from vfl.runtime.checkpoint_file import ArrayCheckpoint
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.program import Program
from vfl.runtime.round_loop import RoundLoop

CHECKPOINT = "sample_holder"


class _Local:
    """This party's rows, split and encoded, and its copy of the model."""

    def __init__(self, spec: HorizontalJobSpec, data: PartyDataset, party: str) -> None:
        if data.labels is None:
            raise ProtocolError(f"party {party}: a sample holder needs its label column")
        seed = hash_seed(spec.job.seed, party)
        self.schedule = BatchSchedule(
            data.rows, spec.train.batch_size, spec.train.validation_fraction, seed
        )
        classes = tuple(spec.model.classes or (0.0, 1.0))
        task = spec.model.task
        self.codec = LabelCodec(task, classes if task != "regression" else (), 0.0, 1.0)
        self.data = data
        self.model = build_model(data.width, spec.model.layers, round_plan.outputs(spec), 0)

    def x(self, rows: np.ndarray, scaling: Scaling) -> torch.Tensor:
        scaled = (self.data.features[rows] - scaling.mean) / scaling.scale
        return torch.from_numpy(scaled.astype(np.float32))

    def y(self, rows: np.ndarray) -> torch.Tensor:
        assert self.data.labels is not None
        return self.codec.encode(self.data.labels[rows])


def hash_seed(seed: int, party: str) -> int:
    """The seed of this party's held-out rows: public (job seed and party name)."""
    return derive_seed(seed, "horizontal/validation", party)


class HorizontalTrainSampleHolder(Program):
    """Runs this party's side of every round of a horizontal job's train phase."""

    phase = "train"

    def run(self, ctx: PartyContext) -> None:
        spec = horizontal(ctx.job)
        local = _Local(spec, ctx.require_data(), ctx.party)
        secret = PartySecret.of(ctx)
        ctx.scoped(step="schema").send(AGGREGATOR, Schema(local.data.feature_names))
        scaling = _scaling(ctx.scoped(round=STATS_ROUND), spec, local, secret)
        train_rows = local.schedule.train_rows
        x, y = local.x(train_rows, scaling), local.y(train_rows)
        strategy = round_plan.strategy(spec)
        dp = round_plan.dp_plan(spec)
        config = LocalConfig(
            spec.train.local_epochs,
            spec.train.batch_size,
            spec.train.learning_rate,
            spec.train.optimizer,
            spec.train.proximal_mu if spec.train.strategy is StrategyName.FEDPROX else 0.0,
        )
        topk = None
        if spec.train.compression is Compression.TOPK:  # keeps what it has not sent yet
            topk = TopK(spec.train.topk_fraction)
        personal = personal_model(spec, local.model, local.codec, config)
        private = _dp_sgd(spec, local, x, y, config)
        loop = RoundLoop(
            spec.train.rounds,
            _Carried(topk, private, personal),
            ArrayCheckpoint(ctx.workspace, CHECKPOINT, "round"),
        )
        loop.resume()
        if spec.train.asynchronous:
            _run_async(ctx, spec, _Round(local, secret, x, y, config, private), scaling)
            return

        def play(r: int) -> None:
            rctx = ctx.scoped(round=r)
            order = rctx.recv(AGGREGATOR, RoundStart)
            if order.final:
                raise ProtocolError(
                    f"round {r}: the aggregator sent the final model before the last round"
                )
            if order.sampled:
                scope = str(r)
                result = _local_step(secret, scope, local, order.params, x, y, config, private)
                personal.round(secret, scope, order.params, x, y)  # never sent
                if dp is not None:
                    noise = secret.derive("horizontal/dp-noise", scope).generator()
                    vector = dp.mechanism.privatize(
                        result.delta, noise, distributed=spec.train.secure_aggregation
                    )
                    summed = np.concatenate([vector, [1.0, 0.0, 0.0]])
                else:
                    share = strategy.contribution(result.delta, result.samples, result.loss_before)
                    summed = np.concatenate(
                        [
                            share.vector,
                            [share.weight, result.samples * result.loss_before, result.samples],
                        ]
                    )
                settings = SumSettings(
                    spec.train.secure_aggregation,
                    round_plan.UPDATE_BITS,
                    spec.train.timeout_s,
                    spec.train.compression,
                    topk,
                    round_plan.grid(spec),
                )
                masks = secret.derive("horizontal/secagg", scope)
                party_sum(rctx, order.parties, summed, settings, masks)

        loop.run(play)
        final = ctx.scoped(round=spec.train.rounds)
        order = final.recv(AGGREGATOR, RoundStart)
        if not order.final:
            raise ProtocolError("the aggregator sent no final model after the last round")
        _save(ctx, local, order.params, scaling)
        personal.keep(ctx.workspace, order.params)
        if private is not None:
            final.send(AGGREGATOR, PrivacySpent(private.epsilon(spec.privacy.delta)))


class HorizontalEvaluateSampleHolder(Program):
    """Scores the final model on this party's own rows and sends the metrics."""

    phase = "evaluate"

    def run(self, ctx: PartyContext) -> None:
        spec = horizontal(ctx.job)
        local = _Local(spec, ctx.require_data(), ctx.party)
        state, meta = ctx.workspace.load_model()
        scaling = Scaling(state["mean"].numpy(), state["scale"].numpy())
        load_flat(local.model, state["params"].double().numpy())
        self._score(ctx, spec, local, scaling, "")
        if spec.train.personalization is Personalization.FINETUNE:
            x, y = local.x(local.schedule.train_rows, scaling), local.y(local.schedule.train_rows)
            secret = PartySecret.of(ctx)
            generator = torch.Generator().manual_seed(
                secret.derive("horizontal/personal", "finetune").bits(0, 63)
            )
            config = LocalConfig(
                spec.train.personal_epochs,
                spec.train.batch_size,
                spec.train.learning_rate,
                spec.train.optimizer,
            )
            global_params = state["params"].double().numpy()
            train_local(local.model, global_params, local.codec, x, y, config, generator)
            self._score(ctx, spec, local, scaling, PERSONAL)
            state["personal_params"] = torch.from_numpy(flatten(local.model))
            ctx.workspace.save_model(state, {**meta, "personalized": True})
        elif spec.train.personalization is Personalization.DITTO:
            load_personal(local.model, state)
            self._score(ctx, spec, local, scaling, PERSONAL)

    @staticmethod
    def _score(
        ctx: PartyContext, spec: HorizontalJobSpec, local: _Local, scaling: Scaling, suffix: str
    ) -> None:
        """This party's metrics of its current model on its train and held-out rows."""
        classes = tuple(spec.model.classes or ())
        for split, rows in (
            ("train", local.schedule.train_rows),
            ("validation", local.schedule.valid_rows),
        ):
            assert local.data.labels is not None
            pred = predictions(local.model, local.codec, local.x(rows, scaling))
            values = compute_metrics(spec.model.task, local.data.labels[rows], pred, classes)
            names = tuple(sorted(values))
            name = split + suffix
            metrics = LocalMetrics(name, names, np.array([values[n] for n in names]), len(rows))
            ctx.scoped(split=name).send(AGGREGATOR, metrics)


def _scaling(
    ctx: PartyContext, spec: HorizontalJobSpec, local: _Local, secret: PartySecret
) -> Scaling:
    if spec.train.standardize:
        x = local.data.features[local.schedule.train_rows].astype(np.float64)
        stats = np.concatenate([x.sum(axis=0), (x**2).sum(axis=0), [len(x)]])
        settings = SumSettings(
            spec.train.secure_aggregation, round_plan.STATS_BITS, spec.train.timeout_s
        )
        names = sorted(p.name for p in spec.parties)
        party_sum(ctx, names, stats, settings, secret.derive("horizontal/secagg", STATS_ROUND))
    scaling = ctx.recv(AGGREGATOR, Scaling)
    if scaling.mean.shape != (local.data.width,) or scaling.scale.shape != (local.data.width,):
        raise ProtocolError("the aggregator's scaling does not match this party's features")
    return scaling


class _Carried:
    """What a sample holder carries from round to round, as its checkpoint stores it: the
    top-k residual it has not sent yet, the DP-SGD accountant's step count and (Ditto) the
    personal model."""

    def __init__(
        self, topk: TopK | None, private: DpSgdTrainer | None, personal: PersonalModel
    ) -> None:
        self.topk, self.private, self.personal = topk, private, personal

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        if self.topk is not None and self.topk.residual is not None:
            state["residual"] = self.topk.residual
        if self.private is not None:
            state["dp_steps"] = np.array(self.private.steps)
        state.update(self.personal.state())
        return state

    def load_state(self, saved: dict[str, Any]) -> None:
        if self.topk is not None:
            self.topk.residual = saved.get("residual")
        if self.private is not None and "dp_steps" in saved:
            self.private.restore(int(saved["dp_steps"]))
        self.personal.load_state(saved)


class _Round:
    """What a party's local step needs, bundled for the asynchronous loop."""

    def __init__(
        self,
        local: _Local,
        secret: PartySecret,
        x: torch.Tensor,
        y: torch.Tensor,
        config: LocalConfig,
        private: DpSgdTrainer | None,
    ) -> None:
        self.local, self.secret, self.x, self.y = local, secret, x, y
        self.config, self.private = config, private


def _run_async(ctx: PartyContext, spec: HorizontalJobSpec, step: _Round, scaling: Scaling) -> None:
    """Buffered asynchronous aggregation: train on each model the aggregator sends."""
    strategy = round_plan.strategy(spec)

    def train(params: Vector, version: int) -> Vector:
        result = _local_step(
            step.secret, str(version), step.local, params, step.x, step.y, step.config, step.private
        )
        share = strategy.contribution(result.delta, result.samples, result.loss_before)
        extra = [share.weight, result.samples * result.loss_before, result.samples]
        return np.concatenate([share.vector, extra])

    final = buffered.participate(ctx, train)
    _save(ctx, step.local, final, scaling)
    if step.private is not None:
        ctx.scoped(round=spec.train.rounds).send(
            AGGREGATOR, PrivacySpent(step.private.epsilon(spec.privacy.delta))
        )


def _local_step(
    secret: PartySecret,
    scope: str,
    local: _Local,
    params: Vector,
    x: torch.Tensor,
    y: torch.Tensor,
    config: LocalConfig,
    private: DpSgdTrainer | None,
) -> LocalResult:
    """This party's local training from `params`, with batches (and DP-SGD noise) drawn
    from its secret for `scope`, so a replayed round draws the same."""
    seed = secret.derive("horizontal/batches", scope).bits(0, 63)
    if private is not None:
        noise_seed = secret.derive("horizontal/dp-sgd-noise", scope).bits(0, 63)
        return private.round(params, (seed, noise_seed))
    generator = torch.Generator().manual_seed(seed)
    return train_local(local.model, params, local.codec, x, y, config, generator)


def _dp_sgd(
    spec: HorizontalJobSpec,
    local: _Local,
    x: torch.Tensor,
    y: torch.Tensor,
    config: LocalConfig,
) -> DpSgdTrainer | None:
    """The party's DP-SGD trainer when [privacy] asks for it (a resume restores its
    accountant: `_Carried`)."""
    privacy = spec.privacy
    if not privacy.dp_sgd:
        return None
    # Opacus (and what it imports) only where a job asks for DP-SGD: it is slow to import
    # and sets up the root logger on import
    from vfl.algorithms.horizontal.dp_sgd import DpSgdTrainer, noise_for  # noqa: PLC0415

    z = privacy.dp_sgd_noise_multiplier
    if z is None:
        assert privacy.dp_sgd_epsilon is not None
        batches = -(-len(x) // spec.train.batch_size)
        steps = spec.train.rounds * spec.train.local_epochs * batches
        z = noise_for(privacy.dp_sgd_epsilon, privacy.delta, 1 / batches, steps)
    return DpSgdTrainer(local.model, local.codec, x, y, config, z, privacy.dp_sgd_clip)


def _save(ctx: PartyContext, local: _Local, params: Vector, scaling: Scaling) -> None:
    load_flat(local.model, params)
    state = {
        "params": torch.from_numpy(params.astype(np.float64)),
        "mean": torch.from_numpy(scaling.mean.astype(np.float64)),
        "scale": torch.from_numpy(scaling.scale.astype(np.float64)),
    }
    meta = {
        "mode": "horizontal",
        "features": list(local.data.feature_names),
        **round_plan.architecture(horizontal(ctx.job)),
    }
    ctx.workspace.save_model(state, meta)
