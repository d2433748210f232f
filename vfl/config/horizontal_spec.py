"""The sections of a horizontal job spec: `[model]`, `[train]` and `[privacy]`.

    [job]
    name = "credit-branches"
    mode = "horizontal"
    [[parties]]
    name = "branch-a"
    role = "sample_holder"
    data = "branch_a.csv"
    label_column = "default"
    [model]
    kind = "mlp"                 # or logistic_regression, linear_regression
    hidden = [64, 32]
    [train]
    rounds = 20
    local_epochs = 1
    strategy = "fedavg"          # fedavgm, fedprox, fedadagrad, fedadam, fedyogi, qfedavg
    secure_aggregation = true    # the default: the coordinator learns only sums
    [privacy]
    client_dp_epsilon = 8        # client-level DP, ε reported in the result

The names of strategies, robust rules and compressions live here (the algorithms take
them from here), so the spec, the aggregator and the docs share one list.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_WIDTH = 4096
MAX_LAYERS = 16


class StrategyName(StrEnum):
    """`[train] strategy`: how the aggregator turns the round's updates into a model."""

    FEDAVG = "fedavg"
    FEDAVGM = "fedavgm"
    FEDPROX = "fedprox"
    FEDADAGRAD = "fedadagrad"
    FEDADAM = "fedadam"
    FEDYOGI = "fedyogi"
    QFEDAVG = "qfedavg"


ADAPTIVE = (StrategyName.FEDADAGRAD, StrategyName.FEDADAM, StrategyName.FEDYOGI)


class RobustRule(StrEnum):
    """`[train] robust`: a Byzantine-robust rule instead of the weighted mean."""

    MEDIAN = "median"
    TRIMMED_MEAN = "trimmed_mean"
    KRUM = "krum"
    MULTI_KRUM = "multi_krum"


class Compression(StrEnum):
    """`[train] compression` of the updates parties send."""

    NONE = "none"
    INT8 = "int8"
    TOPK = "topk"


class Stragglers(StrEnum):
    """`[train] stragglers`: what a round does with parties that miss its deadline."""

    DROP = "drop"
    """Aggregate the updates that arrived (at least min_parties) and go on."""
    PARTIAL = "partial"
    """Wait for every sampled party's update, however partial its local training."""


class Personalization(StrEnum):
    """`[train] personalization`: what each party makes of the global model for itself."""

    NONE = "none"
    FINETUNE = "finetune"
    """After training, each party fine-tunes the global model on its own rows for
    personal_epochs; the result has its metrics before and after (`…/personal`)."""
    DITTO = "ditto"
    """Ditto (Li et al. 2021): each party also trains a personal model of its own, every
    round it is sampled, pulled towards that round's global model by ditto_lambda; the
    result has its metrics with the global and the personal model (`…/personal`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class HorizontalModelSpec(_Strict):
    """The one model every sample holder trains a copy of."""

    kind: Literal["mlp", "logistic_regression", "linear_regression"] = "mlp"
    task: Literal["binary", "multiclass", "regression"] = "binary"
    hidden: list[int] = Field(default_factory=lambda: [32], max_length=MAX_LAYERS)
    """Hidden widths of the MLP (mlp only; the presets have none)."""
    classes: list[float] | None = Field(default=None, max_length=1000)
    """multiclass: every class label, in order. Parties must agree on them without showing
    each other which classes they hold, so the spec lists them."""

    @model_validator(mode="after")
    def _check(self) -> HorizontalModelSpec:
        for i, width in enumerate(self.hidden):
            if not 1 <= width <= MAX_WIDTH:
                raise ValueError(
                    f"model.hidden[{i}] must be between 1 and {MAX_WIDTH} (found {width})"
                )
        if self.kind == "logistic_regression" and self.task == "regression":
            raise ValueError("logistic_regression needs task binary or multiclass")
        if self.kind == "linear_regression" and self.task != "regression":
            raise ValueError("linear_regression needs task = 'regression'")
        if self.task == "multiclass" and (self.classes is None or len(self.classes) < 2):
            raise ValueError("a multiclass horizontal job lists model.classes (at least 2)")
        return self

    @property
    def layers(self) -> list[int]:
        return list(self.hidden) if self.kind == "mlp" else []


class HorizontalTrainSpec(_Strict):
    """`[train]` of a horizontal job: rounds of local training and aggregation."""

    rounds: int = Field(default=20, ge=1, le=10_000)
    local_epochs: int = Field(default=1, ge=1, le=1000)
    """Epochs each party trains on its own rows per round."""
    batch_size: int = Field(default=64, ge=1, le=1_000_000)
    optimizer: Literal["sgd", "adam"] = "sgd"
    """The parties' local optimizer (fresh each round)."""
    learning_rate: float = Field(default=0.05, gt=0, le=10)
    """The parties' local learning rate."""
    validation_fraction: float = Field(default=0.2, ge=0, lt=1)
    """Share of each party's rows held out for the federated validation metrics."""
    standardize: bool = True
    """Scale features with the federation's mean and variance (from a secure sum)."""
    timeout_s: float = Field(default=600, gt=0, le=86_400)
    """How long a party waits for a message before failing the job."""
    strategy: StrategyName = StrategyName.FEDAVG
    server_learning_rate: float | None = Field(default=None, gt=0, le=100)
    """η of the server step; default 1.0, or 0.1 for the adaptive strategies."""
    server_momentum: float = Field(default=0.9, ge=0, lt=1)
    """β of fedavgm."""
    beta_1: float = Field(default=0.9, ge=0, lt=1)
    beta_2: float = Field(default=0.99, ge=0, lt=1)
    tau: float = Field(default=1e-3, gt=0, le=1)
    """The adaptive strategies' τ."""
    proximal_mu: float = Field(default=0.01, ge=0, le=100)
    """fedprox's μ (ignored by the other strategies)."""
    q: float = Field(default=0.2, ge=0, le=20)
    """qfedavg's q."""
    fraction: float = Field(default=1.0, gt=0, le=1)
    """Share of the parties sampled each round."""
    min_parties: int = Field(default=2, ge=1, le=1000)
    """Fewest updates a round aggregates; fewer fail the round."""
    round_timeout_s: float = Field(default=600, gt=0, le=86_400)
    """How long the aggregator waits for a round's updates (under secure aggregation: at
    each of its four steps)."""
    stragglers: Stragglers = Stragglers.DROP
    secure_aggregation: bool = True
    """The coordinator learns only the sum of each round's updates (Bonawitz et al.)."""
    robust: RobustRule | None = None
    """A robust rule instead of the weighted mean; needs secure_aggregation = false."""
    trim: float = Field(default=0.1, ge=0, lt=0.5)
    """trimmed_mean: share dropped at each end."""
    byzantine: int = Field(default=1, ge=0, le=31)
    """krum / multi_krum: hostile parties assumed."""
    compression: Compression = Compression.NONE
    """How parties send their updates: int8 (unbiased 8-bit levels; in the clear 8x fewer
    bytes than float64, under secure aggregation 2-byte masked words instead of 8) or topk
    (the largest coordinates, the rest carried over; refused with secure aggregation)."""
    int8_bound: float | None = Field(default=None, gt=0, le=1e9)
    """int8 under secure aggregation: the public grid's range, ±int8_bound on each
    coordinate of a party's contribution (for the FedAvg family its update × its sample
    count). Larger values are clipped to it; the step is 2·int8_bound/255."""
    topk_fraction: float = Field(default=0.05, gt=0, le=1)
    """topk: share of coordinates each party sends per round."""
    asynchronous: bool = False
    """Buffered asynchronous aggregation (FedBuff): no rounds in lockstep; each party
    trains on the newest model it has and sends its update when done; every buffer_size
    updates the aggregator takes a step, weighting each update by 1/√(1 + staleness).
    `rounds` then counts the aggregator's steps."""
    buffer_size: int = Field(default=0, ge=0, le=1000)
    """Updates per asynchronous step; 0: half the parties (at least 1)."""
    personalization: Personalization = Personalization.NONE
    personal_epochs: int = Field(default=2, ge=1, le=1000)
    """finetune: local epochs on the global model, at each party, after the last round."""
    ditto_lambda: float = Field(default=1.0, gt=0, le=10_000)
    """ditto: λ of the personal objective f(v) + λ/2·‖v − w‖² (w: the round's global
    model). Small λ lets each personal model fit its party's rows; large λ keeps it near
    the global model."""

    @model_validator(mode="before")
    @classmethod
    def _epochs(cls, data: Any) -> Any:
        if isinstance(data, dict) and "epochs" in data:
            raise ValueError(
                "a horizontal job counts rounds, not epochs: set rounds and local_epochs"
            )
        return data

    @model_validator(mode="after")
    def _check(self) -> HorizontalTrainSpec:
        if self.secure_aggregation and self.robust is not None:
            raise ValueError(
                f"train.robust {self.robust.value!r} reads each party's model delta in the "
                "clear, which secure aggregation hides; turn secure_aggregation off to use it"
            )
        if self.asynchronous and self.secure_aggregation:
            raise ValueError(
                "asynchronous = true sums updates as they arrive, from different model "
                "versions, while secure aggregation needs a cohort that masks together: set "
                "secure_aggregation = false to aggregate asynchronously"
            )
        if self.secure_aggregation and self.compression is Compression.TOPK:
            raise ValueError(
                "compression = 'topk' shows the aggregator which coordinates each party "
                "sends, which secure aggregation exists to hide: set secure_aggregation = "
                "false for top-k, or use compression = 'int8', which composes with it"
            )
        if self.secure_int8 and self.int8_bound is None:
            raise ValueError(
                "compression = 'int8' with secure aggregation needs train.int8_bound, the "
                "public range ±bound of each coordinate of a party's contribution (its update "
                "× its sample count), e.g. int8_bound = 50"
            )
        if self.personalization is Personalization.DITTO:
            self._check_ditto()
        return self

    def _check_ditto(self) -> None:
        if self.asynchronous:
            raise ValueError(
                "personalization = 'ditto' pulls each personal model towards the round's "
                "global model, and asynchronous = true has no rounds in lockstep: set "
                "asynchronous = false to use ditto"
            )
        if "personal_epochs" in self.model_fields_set:
            raise ValueError(
                "personal_epochs is finetune's; ditto takes local_epochs steps on each "
                "personal model every round a party is sampled: remove personal_epochs"
            )
        step = self.learning_rate * self.ditto_lambda
        if self.optimizer == "sgd" and step >= 2:
            raise ValueError(
                f"ditto_lambda = {self.ditto_lambda:g} with learning_rate = "
                f"{self.learning_rate:g}: SGD's personal steps overshoot the global model "
                f"when learning_rate × ditto_lambda ≥ 2 (found {step:g}); lower either"
            )

    @property
    def secure_int8(self) -> bool:
        """int8 levels on the public grid, masked in a narrow ring (public_grid.py)."""
        return self.secure_aggregation and self.compression is Compression.INT8

    @property
    def epochs(self) -> int:
        """Local epochs a party may run in all: what a party's max_epochs budget caps."""
        return self.rounds * self.local_epochs

    @property
    def server_lr(self) -> float:
        if self.server_learning_rate is not None:
            return self.server_learning_rate
        return 0.1 if self.strategy in ADAPTIVE else 1.0


class HorizontalPrivacySpec(_Strict):
    """`[privacy]` of a horizontal job: client-level DP (clip, Gaussian noise, accountant).

    Off unless `client_dp_epsilon` or `noise_multiplier` is set. Each party clips its
    update to `clip`; the noise is added by the aggregator, or split across the parties
    when secure aggregation is on; dp-accounting reports ε at `delta` in the result."""

    client_dp_epsilon: float | None = Field(default=None, gt=0, le=1000)
    """Target ε (client-level, over all rounds); the noise is calibrated to it."""
    delta: float = Field(default=1e-5, gt=0, lt=1)
    clip: float = Field(default=1.0, gt=0, le=1e6)
    """L2 bound on each party's update per round."""
    noise_multiplier: float | None = Field(default=None, gt=0, le=1e6)
    """Expert knob instead of client_dp_epsilon; ε is still reported."""
    dp_sgd_epsilon: float | None = Field(default=None, gt=0, le=1000)
    """Record-level DP-SGD (Opacus) at every party: target ε per party's rows over the job;
    unset: no DP-SGD. Each party reports the ε its accountant gives."""
    dp_sgd_noise_multiplier: float | None = Field(default=None, gt=0, le=1e6)
    """Expert knob instead of dp_sgd_epsilon."""
    dp_sgd_clip: float = Field(default=1.0, gt=0, le=1e6)
    """DP-SGD's per-example gradient norm bound."""

    @model_validator(mode="after")
    def _check_one(self) -> HorizontalPrivacySpec:
        if self.client_dp_epsilon is not None and self.noise_multiplier is not None:
            raise ValueError(
                "set client_dp_epsilon (calibrated noise) or noise_multiplier (expert), not both"
            )
        if self.dp_sgd_epsilon is not None and self.dp_sgd_noise_multiplier is not None:
            raise ValueError(
                "set dp_sgd_epsilon (calibrated) or dp_sgd_noise_multiplier (expert), not both"
            )
        return self

    @property
    def enabled(self) -> bool:
        return self.client_dp_epsilon is not None or self.noise_multiplier is not None

    @property
    def dp_sgd(self) -> bool:
        return self.dp_sgd_epsilon is not None or self.dp_sgd_noise_multiplier is not None
