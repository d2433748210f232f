"""The job spec: what a data scientist writes in TOML to describe one federated job.

Every model forbids unknown keys, so a typo (`epoch = 5`) is an error, not a silent default.
Relative data paths are resolved against the spec file's folder by `load_job`.

`JobSpec` is a union discriminated by `job.mode` (absent: "vertical"): one class per mode,
each with its roles and sections. Sections every mode has (`[job]`, `[[parties]]`, the
common `[train]` knobs such as `timeout_s`) live in shared classes; vertical-only knobs
(`[align]`, `[model]` of a split model, `train.protection`, `[privacy]`) live only in
`VerticalJobSpec`, so code that reads them says so in its type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    TypeAdapter,
    model_serializer,
    model_validator,
)

from vfl.config.he_scheme import HeScheme
from vfl.config.horizontal_spec import (
    HorizontalModelSpec,
    HorizontalPrivacySpec,
    HorizontalTrainSpec,
)
from vfl.config.id_rules import IdRule
from vfl.config.paillier_bounds import rows_slot_error
from vfl.config.phase_plan import Mode as ModeName
from vfl.config.phase_plan import Phase, PhasePlan, plan_for
from vfl.config.predict_spec import MissingPartyRows, VerticalPredictSpec
from vfl.errors import ConfigError

Mode = Literal["vertical", "horizontal", "transfer"]
VerticalRole = Literal["label_holder", "feature_holder"]
HorizontalRole = Literal["sample_holder"]
TransferRole = Literal["source", "target"]
Task = Literal["binary", "multiclass", "regression"]
AlignProtocol = Literal["ecdh", "rsa", "rr22", "join"]
Protection = Literal["none", "paillier"]
PARTY_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"


MIN_KEY_BITS = 2048
"""Smallest Paillier or RSA modulus anything accepts (NIST: 112-bit security until 2030);
tests make smaller keys only through vfl.crypto.testing and say so to the receiver."""
MAX_WIDTH = 4096
"""Widest layer a spec may ask for: a peer's spec must not make a party allocate GBs."""
MAX_LAYERS = 16
"""Most hidden layers in a bottom or top model."""
Width = Annotated[int, Field(ge=1, le=MAX_WIDTH)]
"""One hidden layer's width; an error names the list and the index (model.bottom_hidden[0])."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _OmitsNewDefaults(_Strict):
    """A section with fields added after specs were in use: at their default they are left
    out of the JSON, so an older spec's JSON, and so its digest (which keys the parties'
    secrets and sealing), stays what it was."""

    _OMIT_AT_DEFAULT: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _without_new_defaults(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        fields = type(self).model_fields
        for name in self._OMIT_AT_DEFAULT:
            if name in data and getattr(self, name) == fields[name].get_default():
                del data[name]
        return data


class JobSection(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    """Human name; the job id adds a unique suffix."""
    mode: Mode = "vertical"
    """vertical (split learning), horizontal (FedAvg family) or transfer (FTL)."""
    seed: int = 0
    """Seeds the validation split and the batch order, which every party must agree on.
    Public (every party and the coordinator read it): initial weights, masks and noise
    come from each party's own secret instead."""


class MissingLabel(StrEnum):
    """What the label holder does with rows whose label is empty."""

    ERROR = "error"
    """Fail with the count (the default): a missing label is usually a broken export."""
    DROP = "drop"
    """Leave those rows out before PSI, so they are never aligned or trained on."""


class PartySpec(_OmitsNewDefaults):
    """One party of a job: who it is, its role and where its data is. Every mode's parties
    have these fields; each mode's subclass narrows `role` to its own roles."""

    _OMIT_AT_DEFAULT: ClassVar[tuple[str, ...]] = ("positive_label", "missing_label")

    name: str = Field(pattern=PARTY_NAME)
    """The party's registered name: lowercase letters, digits, '-' and '_'."""
    role: str
    """What the party does; each mode's subclass lists its roles."""
    data: str
    """A CSV or Parquet path (relative to the spec file) or a SQLAlchemy URL."""
    id_column: str
    """Column holding the entity ID used to align parties."""
    label_column: str | None = None
    """The label column, for roles that hold labels (each mode says which)."""
    table: str | None = None
    """With a SQL URL: the table to read."""
    query: str | None = None
    """With a SQL URL: a SELECT to read instead of a table."""
    features: list[str] | None = Field(default=None, max_length=100_000)
    """Feature columns to use; default: every column but the ID and label."""
    missing: Literal["error", "drop", "zero", "mean"] = "error"
    """What to do with missing feature values: fail (default), drop the row, fill 0 or the mean."""
    positive_label: str | int | None = None
    """A binary task's label value that means 1 (`"yes"`, `4`); every other value is 0.
    Unset: the label column must hold 0 and 1."""
    missing_label: MissingLabel = MissingLabel.ERROR
    """Rows with an empty label: `error` (default) or `drop` them before PSI."""

    @model_validator(mode="after")
    def _check_source(self) -> PartySpec:
        is_sql = "://" in self.data
        if is_sql and (self.table is None) == (self.query is None):
            raise ValueError(
                f"party {self.name!r}: a SQL data source needs exactly one of `table` or `query`"
            )
        if self.label_column is None and (
            self.positive_label is not None or self.missing_label != MissingLabel.ERROR
        ):
            raise ValueError(
                f"party {self.name!r}: positive_label and missing_label apply only with "
                "label_column; set them on the party that holds the labels"
            )
        if not is_sql and (self.table is not None or self.query is not None):
            raise ValueError(
                f"party {self.name!r}: `table` and `query` apply only to SQL URLs, but data "
                f"{self.data!r} is a file path or a registered dataset name; remove `table`/"
                "`query` (a registered dataset's table is set in the owner's party.toml) or "
                "set data to a SQL URL"
            )
        return self


class VerticalPartySpec(PartySpec):
    role: VerticalRole
    """label_holder (holds the labels, runs the top model) or feature_holder."""


class HorizontalPartySpec(PartySpec):
    role: HorizontalRole
    """sample_holder: holds whole rows (features and labels) of its own samples."""
    id_column: str | None = None  # type: ignore[assignment]
    """Optional: nothing is aligned; a named ID column is only kept out of the features."""


class TransferPartySpec(PartySpec):
    role: TransferRole
    """source (labels and its features) or target (other features, few or no labels)."""


DEFAULT_MIN_INTERSECTION = 10
"""Fewest shared rows a training job accepts unless `align.min_intersection` says: below
it, a 0.2 validation split is a row or two and the metrics mean nothing."""


class AlignSpec(_OmitsNewDefaults):
    """`[align]`: how the parties find the rows they share, and how few are too few."""

    _OMIT_AT_DEFAULT: ClassVar[tuple[str, ...]] = ("min_intersection",)
    protocol: AlignProtocol = "ecdh"
    """How parties find their shared rows: `ecdh` (PSI on X25519), `rsa` (blind-
    signature PSI for very unbalanced sets: the smaller side does cheap work), `rr22`
    (SecretFlow's RR22 from the spu wheel, `make fastpsi`; each feature holder also learns
    its pairwise intersection with the label holder, psi/rr22/messages.py), or `join`
    (exchanges raw IDs: tests only)."""
    normalize: list[IdRule] = Field(default_factory=list)
    """ID clean-up applied on every side before matching, in order: `strip`, `lower`,
    `strip_leading_zeros` (vfl/config/id_rules.py)."""
    key_bits: int = Field(default=MIN_KEY_BITS, ge=MIN_KEY_BITS, le=8192)
    """RSA modulus of the signer's key (rsa only); clients refuse a smaller one."""
    cardinality_only: bool = False
    """Only count the shared rows (reported to every party); nobody learns which rows,
    nothing is aligned and the job stops after the align phase. Needs `ecdh`."""
    min_intersection: int = Field(default=DEFAULT_MIN_INTERSECTION, ge=0)
    """A training job whose parties share fewer rows fails after PSI (every party learns
    the count from PSI anyway); 0 turns the check off. Prediction and cardinality-only
    jobs, and `vfl psi`, ignore it."""

    @model_validator(mode="after")
    def _check_cardinality(self) -> AlignSpec:
        if self.cardinality_only and self.protocol != "ecdh":
            raise ValueError(
                f"align.cardinality_only needs protocol 'ecdh', not {self.protocol!r}: under "
                "'rsa' the client side learns the shared rows themselves"
            )
        return self


class TransferAlignSpec(AlignSpec):
    """`[align]` of a transfer job: the vertical knobs, and padding for the target."""

    pad_target_to: int | None = Field(default=None, ge=1, le=100_000_000)
    """Run PSI on the target's IDs followed by dummies up to this many, so the source
    learns this bound instead of the target's row count (and so how many rows it scores
    outside the intersection). Unset: the source learns the count. Not with join."""

    @model_validator(mode="after")
    def _check_padding(self) -> TransferAlignSpec:
        if self.pad_target_to is not None and self.protocol == "join":
            raise ValueError(
                "align.pad_target_to needs protocol 'ecdh' or 'rsa': 'join' sends the IDs"
            )
        return self


class ModelSpec(_Strict):
    kind: Literal["split_nn", "logistic_regression", "linear_regression"] = "split_nn"
    """split_nn, or a preset: identity bottoms and one linear interactive layer."""
    task: Task = "binary"
    """binary, multiclass or regression."""
    bottom_hidden: list[Width] = Field(default_factory=lambda: [32], max_length=MAX_LAYERS)
    """Hidden widths of each party's bottom MLP (split_nn only)."""
    cut_width: int = Field(default=16, ge=1, le=4096)
    """Width of each bottom model's output, the cut layer (split_nn only)."""
    interactive_width: int | None = Field(default=None, ge=1, le=4096)
    """Output width of the interactive layer; default: cut_width (split_nn only)."""
    top_hidden: list[Width] = Field(default_factory=lambda: [16], max_length=MAX_LAYERS)
    """Hidden widths of the label holder's top MLP (split_nn only)."""

    @model_validator(mode="after")
    def _check_preset(self) -> ModelSpec:
        if self.kind == "logistic_regression" and self.task == "regression":
            raise ValueError("logistic_regression needs task binary or multiclass")
        if self.kind == "linear_regression" and self.task != "regression":
            raise ValueError("linear_regression needs task = 'regression'")
        return self


class TransferModelSpec(_Strict):
    """Each party's representation network into the common space (transfer jobs, FTL:
    Liu et al. 2020; docs/transfer.md)."""

    kind: Literal["ftl"] = "ftl"
    """ftl: each party maps its rows into a shared space; the source's class summary Φ
    scores the target's rows there."""
    task: Task = "binary"
    """binary or multiclass (Φ is a summary of the source's classes; regression has none)."""
    hidden: list[Width] = Field(default_factory=lambda: [32], max_length=MAX_LAYERS)
    """Hidden widths of each party's representation MLP."""
    representation_width: int = Field(default=16, ge=1, le=MAX_WIDTH)
    """d, the width of the common representation space both networks map into."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "common_width" in data:
            raise ValueError("model.common_width was renamed: set representation_width instead")
        return data

    @model_validator(mode="after")
    def _check_task(self) -> TransferModelSpec:
        if self.task == "regression":
            raise ValueError(
                "task = 'regression' is not available in transfer jobs: a target row is scored "
                "against the source's class summary Φ (a mean per class), and a regression "
                "label has no classes; use 'binary' or 'multiclass'"
            )
        return self


class TrainSpec(_Strict):
    """Training knobs every mode shares."""

    epochs: int = Field(default=10, ge=1, le=10_000)
    batch_size: int = Field(default=256, ge=1, le=1_000_000)
    optimizer: Literal["adam", "sgd"] = "adam"
    learning_rate: float = Field(default=0.01, gt=0, le=10)
    weight_decay: float = Field(default=0.0, ge=0, le=1)
    validation_fraction: float = Field(default=0.2, ge=0, lt=1)
    """Share of the rows held out; the split is the same at every party."""
    standardize: bool = True
    """Scale each feature to zero mean, unit variance (fitted on training rows, locally)."""
    timeout_s: float = Field(default=600, gt=0, le=86_400)
    """How long a party waits for a peer's message before failing the job."""


class VerticalTrainSpec(TrainSpec):
    """`[train]` of a vertical job: the shared knobs and how cut-layer values cross parties."""

    protection: Protection = "paillier"
    """How cut-layer values cross parties: `paillier` (default) encrypted under each feature
    holder's key (the interactive layer of that party then trains by SGD with `momentum`,
    whatever `optimizer` says); `none` in plaintext, for parties that trust each other and
    as the baseline."""
    key_bits: int = Field(default=MIN_KEY_BITS, ge=MIN_KEY_BITS, le=8192)
    """Modulus size (paillier only); 2048 is the minimum, 3072 with he_scheme = "ou"."""
    he_scheme: HeScheme = HeScheme.PAILLIER
    """The homomorphic scheme under protection = "paillier": `paillier` (default) or `ou`
    (Okamoto–Uchiyama: statistical masks, bounded decryptions, key_bits >= 3072;
    docs/paillier.md compares their cost)."""
    precision_bits: int = Field(default=16, ge=8, le=24)
    """Fractional bits of the fixed-point encoding of encrypted values (paillier only)."""
    packing: bool = True
    """Pack many values per Paillier plaintext (paillier only); false is for comparison."""
    workers: int = Field(default=0, ge=0, le=256)
    """Processes for Paillier work per party; 0 = every core."""
    momentum: float = Field(default=0.0, ge=0, lt=1)
    """μ of SGD with momentum (v ← μ·v + g, w ← w − η·v); 0 = plain SGD. With Adam and
    μ > 0, the feature holders' interactive slices train by SGD with momentum in both
    protections (Adam cannot run on Paillier shares) and the rest by Adam, so a plain and
    a Paillier job compute the same function (docs/paillier.md, "Optimizers")."""
    nesterov: bool = False
    """Nesterov's form of momentum (w ← w − η·(g + μ·v)); needs momentum > 0."""

    @model_validator(mode="before")
    @classmethod
    def _removed_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and "gradient_noise" in data:
            raise ValueError(
                "gradient_noise was removed (unclipped noise with no accountant): set "
                "[privacy] label_dp_epsilon = ... for label-DP with a reported ε"
            )
        return data

    @model_validator(mode="after")
    def _check_momentum(self) -> VerticalTrainSpec:
        if self.nesterov and self.momentum == 0:
            raise ValueError(
                "train.nesterov = true needs momentum, found train.momentum = 0; set "
                "momentum > 0 (e.g. 0.9) or nesterov = false"
            )
        return self

    @model_validator(mode="after")
    def _check_paillier(self) -> VerticalTrainSpec:
        if self.protection == "paillier" and self.weight_decay > 0:
            raise ValueError(
                "weight_decay needs the interactive weights in the clear; with protection = "
                "'paillier' nobody holds them: set weight_decay = 0"
            )
        if self.protection == "paillier":
            scheme = self.he_scheme
            if self.key_bits < scheme.min_key_bits(MIN_KEY_BITS):
                raise ValueError(
                    f"train.key_bits = {self.key_bits} is below {scheme.min_key_bits(MIN_KEY_BITS)}"
                    f", the minimum for he_scheme = '{scheme}' (≥ 112-bit security, "
                    "docs/paillier.md); raise key_bits"
                )
            error = rows_slot_error(
                self.key_bits,
                self.precision_bits,
                self.batch_size,
                scheme.capacity_bits(self.key_bits),
            )
            if error:
                raise ValueError(error)
        return self


class PrivacySpec(_Strict):
    """Label-DP for the cut-layer gradient each feature holder receives (docs/privacy.md).

    Off unless `label_dp_epsilon` (or the expert `noise_multiplier`) is set. The label
    holder clips each row of the gradient to `clip` and adds Gaussian noise whose scale a
    maintained accountant (dp-accounting) calibrates to (ε, δ) over the job's epochs; the
    ε spent is reported per feature holder in the result JSON (`privacy.epsilon`).
    """

    label_dp_epsilon: float | None = Field(default=None, gt=0, le=1000)
    """Target ε of label-DP against every feature holder; unset: no label-DP."""
    label_dp_delta: float = Field(default=1e-5, gt=0, lt=1)
    """Target δ of label-DP."""
    clip: float = Field(default=1.0, gt=0, le=1e6)
    """Per-row L2 bound of the clipped cut-layer gradient."""
    noise_multiplier: float | None = Field(default=None, gt=0, le=1e6)
    """Expert knob: noise std / sensitivity set directly instead of from
    `label_dp_epsilon`; the accountant still reports the ε it spends."""

    @model_validator(mode="after")
    def _check_one(self) -> PrivacySpec:
        if self.label_dp_epsilon is not None and self.noise_multiplier is not None:
            raise ValueError(
                "set label_dp_epsilon (calibrated noise) or noise_multiplier (expert), not both"
            )
        return self

    @property
    def label_dp(self) -> bool:
        return self.label_dp_epsilon is not None or self.noise_multiplier is not None


class TransferTrainSpec(TrainSpec):
    """`[train]` of a transfer job: the shared knobs, the FTL loss and how representations
    cross parties (docs/transfer.md)."""

    protection: Protection = "paillier"
    """How representations and their gradients cross parties: `paillier` (default), each
    party's values encrypted under its own key and masked before the other decrypts;
    `none` in plaintext, for parties that trust each other and as the baseline."""
    alignment_weight: float = Field(default=1.0, ge=0, le=1e6)
    """γ: weight of the alignment loss mean‖u_A − u_B‖² on the overlap rows."""
    local_rounds: int = Field(default=1, ge=1, le=100)
    """Optimizer steps per exchange (the paper's communication-efficient mode): each party
    repeats its step on the batch k times, reusing the peer's last values. 1 = exact SGD."""
    loss: Literal["logistic", "taylor"] | None = None
    """The prediction loss ℓ (binary): `logistic` log(1 + e^(−ỹφ)), or `taylor`, its
    second-order expansion log 2 − ½ỹφ + ⅛φ², the only one Paillier can compute. Unset:
    the protection's (none → logistic, paillier → taylor); set taylor under none to get
    the plaintext twin of a Paillier job."""
    key_bits: int = Field(default=MIN_KEY_BITS, ge=MIN_KEY_BITS, le=8192)
    """Each party's Paillier modulus size (paillier only); 2048 is the minimum."""
    precision_bits: int = Field(default=16, ge=8, le=24)
    """Fractional bits of the fixed-point encoding of encrypted values (paillier only)."""

    @property
    def prediction_loss(self) -> Literal["logistic", "taylor"]:
        """ℓ as the job runs it: the explicit `loss`, else the protection's."""
        if self.loss is not None:
            return self.loss
        return "taylor" if self.protection == "paillier" else "logistic"


class PredictSpec(_Strict):
    """`[predict]` of a transfer job: how the target writes its scores (in its workspace)."""

    format: Literal["csv", "parquet"] = "csv"
    """File format of the target's predictions (outputs/predictions.csv or .parquet)."""


class _JobSpecBase(_Strict):
    """What every mode's spec has: the job, its parties and where their data paths start."""

    MODE: ClassVar[ModeName]
    job: JobSection
    parties: list[PartySpec]
    # `train` is each mode's own (a TrainSpec): declared there, after the mode's sections,
    # so a spec's JSON keeps its field order (its digest keys the parties' secrets).
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def plan(self) -> PhasePlan:
        """The phases this job runs and the roles it may give (vfl/config/phase_plan.py)."""
        return plan_for(self.MODE)

    @property
    def phases(self) -> tuple[Phase, ...]:
        """The phases of the plan this job runs (a mode may stop early, see vertical)."""
        return self.plan.phases

    @property
    def base_dir(self) -> Path:
        """Folder that relative data paths are resolved against."""
        return self._base_dir

    def with_base_dir(self, base_dir: Path) -> Self:
        copy = self.model_copy()
        copy._base_dir = base_dir
        return copy

    def with_overrides(self, overrides: Mapping[str, Any]) -> Self:
        """This spec with `overrides` ({"train.epochs": 3}) applied and validated again, as
        its TOML would be: an unknown key or a bad value is a one-line ConfigError
        (vfl/config/overrides.py). `model_copy(update=...)` validates nothing."""
        from vfl.config.overrides import override  # noqa: PLC0415 (it parses specs: a cycle)

        # override() refuses a change of job.mode, so the result is of this spec's class
        return cast(Self, override(cast(JobSpec, self), overrides))

    def party(self, name: str) -> PartySpec:
        return next(p for p in self.parties if p.name == name)

    def _check_common(self) -> None:
        if self.job.mode != self.MODE:
            raise ValueError(
                f"job.mode is {self.job.mode!r}, but this is a {self.MODE} spec; "
                f"set job.mode = {self.MODE.value!r}"
            )
        names = [p.name for p in self.parties]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"party names must be unique, found {', '.join(dupes)} twice")

    def _holders(self, role: str) -> list[PartySpec]:
        return [p for p in self.parties if p.role == role]


class VerticalJobSpec(_JobSpecBase):
    """A vertical job: parties hold different columns of the same rows (PSI, then split
    learning). One label holder; every other party is a feature holder."""

    MODE: ClassVar[ModeName] = ModeName.VERTICAL
    job: JobSection
    parties: list[VerticalPartySpec] = Field(min_length=2, max_length=64)  # type: ignore[assignment]
    align: AlignSpec = Field(default_factory=AlignSpec)
    model: ModelSpec = Field(default_factory=ModelSpec)
    train: VerticalTrainSpec = Field(default_factory=VerticalTrainSpec)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    predict: VerticalPredictSpec | None = None
    """Set: a prediction job with a registered model (align → predict), not training."""

    @model_serializer(mode="wrap")
    def _without_absent_predict(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        # a training spec's JSON stays as it was before `[predict]` existed: its digest
        # keys the parties' secrets and sealing, and the coordinator reads `predict` in it
        data: dict[str, Any] = handler(self)
        if data.get("predict", 0) is None:
            del data["predict"]
        return data

    @model_validator(mode="after")
    def _check_parties(self) -> VerticalJobSpec:
        self._check_common()
        holders = self._holders("label_holder")
        if len(holders) != 1:
            raise ValueError(f"a vertical job needs exactly one label_holder, found {len(holders)}")
        for p in self.parties:
            if p.role == "label_holder" and p.label_column is None and self.predict is None:
                raise ValueError(f"party {p.name!r}: the label_holder needs label_column")
            if p.role != "label_holder" and p.label_column is not None:
                raise ValueError(f"party {p.name!r}: only the label_holder may set label_column")
        if self.predict is not None:
            self._check_predict(self.predict, holders[0])
        return self

    def _check_predict(self, predict: VerticalPredictSpec, label_holder: PartySpec) -> None:
        names = [p.name for p in self.parties]
        if predict.deliver_to is not None and predict.deliver_to not in names:
            raise ValueError(
                f"predict.deliver_to: {predict.deliver_to!r} is not a party of this job "
                f"(parties: {', '.join(names)})"
            )
        if predict.output is None and label_holder.label_column is None:
            raise ValueError(
                "[predict] needs `output` (where the scores go), or a label_column at the "
                "label_holder to evaluate the model on labelled rows"
            )
        if (
            predict.missing_party_rows == MissingPartyRows.IMPUTE
            and self.deliver_to != label_holder.name
        ):
            raise ValueError(
                "predict.missing_party_rows = 'impute' scores rows only the label_holder "
                f"holds, so deliver_to must be {label_holder.name!r}, not {self.deliver_to!r}"
            )

    @property
    def deliver_to(self) -> str:
        """The party that receives the scores of a prediction job (default: label holder)."""
        chosen = self.predict.deliver_to if self.predict is not None else None
        return chosen or self.label_holder.name

    @property
    def plan(self) -> PhasePlan:
        return plan_for(self.MODE, predicting=self.predict is not None)

    @property
    def phases(self) -> tuple[Phase, ...]:
        # Cardinality-only align answers "is this federation worth it?": nothing to train on.
        return self.plan.phases[:1] if self.align.cardinality_only else self.plan.phases

    @property
    def label_holder(self) -> VerticalPartySpec:
        return next(p for p in self.parties if p.role == "label_holder")

    @property
    def feature_holders(self) -> list[VerticalPartySpec]:
        return [p for p in self.parties if p.role == "feature_holder"]


class HorizontalJobSpec(_JobSpecBase):
    """A horizontal job: parties hold different rows with the same columns (FedAvg family,
    secure aggregation, client-level DP; vfl/config/horizontal_spec.py)."""

    MODE: ClassVar[ModeName] = ModeName.HORIZONTAL
    job: JobSection
    parties: list[HorizontalPartySpec] = Field(min_length=2, max_length=1000)  # type: ignore[assignment]
    model: HorizontalModelSpec = Field(default_factory=HorizontalModelSpec)
    privacy: HorizontalPrivacySpec = Field(default_factory=HorizontalPrivacySpec)
    train: HorizontalTrainSpec = Field(default_factory=HorizontalTrainSpec)

    @model_validator(mode="after")
    def _check_parties(self) -> HorizontalJobSpec:
        self._check_common()
        for p in self.parties:
            if p.label_column is None:
                raise ValueError(f"party {p.name!r}: every sample_holder needs label_column")
        if self.train.asynchronous and self.privacy.enabled:
            raise ValueError(
                "client-level DP accounts rounds of a sampled cohort; with asynchronous = "
                "true there are none: use dp_sgd_epsilon (each party's own DP-SGD) instead"
            )
        if self.train.secure_int8 and self.privacy.enabled:
            raise ValueError(
                "client-level DP with secure int8 would quantize each party's share of the "
                "noise, which the accountant does not cover (that needs a discrete "
                "mechanism): set compression = 'none' with client_dp_epsilon"
            )
        if self.train.min_parties > len(self.parties):
            raise ValueError(
                f"train.min_parties = {self.train.min_parties} is more than the "
                f"{len(self.parties)} parties; lower it"
            )
        return self


class TransferJobSpec(_JobSpecBase):
    """A transfer job: a source party (labels, its features) and a target party (other
    features, no labels) share some rows, found by PSI. Both learn representations into a
    common space from the shared rows; the target then scores its other rows alone."""

    MODE: ClassVar[ModeName] = ModeName.TRANSFER
    job: JobSection
    parties: list[TransferPartySpec] = Field(min_length=2, max_length=2)  # type: ignore[assignment]
    align: TransferAlignSpec = Field(default_factory=TransferAlignSpec)
    model: TransferModelSpec = Field(default_factory=TransferModelSpec)
    train: TransferTrainSpec = Field(default_factory=TransferTrainSpec)
    predict: PredictSpec = Field(default_factory=PredictSpec)

    @model_validator(mode="after")
    def _check_parties(self) -> TransferJobSpec:
        self._check_common()
        for role in ("source", "target"):
            found = len(self._holders(role))
            if found != 1:
                raise ValueError(f"a transfer job needs exactly one {role}, found {found}")
        if self.source.label_column is None:
            raise ValueError(f"party {self.source.name!r}: the source needs label_column")
        if self.target.label_column is not None:
            raise ValueError(
                f"party {self.target.name!r}: a target holds no labels, but label_column = "
                f"{self.target.label_column!r}; remove it (the source's labels train the model)"
            )
        return self

    @property
    def phases(self) -> tuple[Phase, ...]:
        # as vertical: a cardinality-only align only answers "is this worth it?"
        return self.plan.phases[:1] if self.align.cardinality_only else self.plan.phases

    @property
    def source(self) -> TransferPartySpec:
        return next(p for p in self.parties if p.role == "source")

    @property
    def target(self) -> TransferPartySpec:
        return next(p for p in self.parties if p.role == "target")


@dataclass(frozen=True)
class AlignRoles:
    """Who plays which side of PSI, whatever the mode: the star centre (vertical: the label
    holder; transfer: the source) and the others (feature holders; the target)."""

    centre: str
    others: tuple[str, ...]
    align: AlignSpec
    pad_others_to: int | None = None
    """Transfer: the target runs PSI padded with dummies to this many IDs."""


def align_roles(spec: JobSpec) -> AlignRoles:
    """The PSI roles of `spec`; a mode without an align phase is a one-line ConfigError."""
    if isinstance(spec, VerticalJobSpec):
        return AlignRoles(
            spec.label_holder.name, tuple(p.name for p in spec.feature_holders), spec.align
        )
    if isinstance(spec, TransferJobSpec):
        return AlignRoles(
            spec.source.name, (spec.target.name,), spec.align, spec.align.pad_target_to
        )
    raise ConfigError(f"job.mode: {spec.job.mode!r} jobs have no align phase")


_SPECS: dict[str, type[_JobSpecBase]] = {
    cls.MODE.value: cls for cls in (VerticalJobSpec, HorizontalJobSpec, TransferJobSpec)
}


def _mode_of(value: Any) -> str:
    """The union's tag: `job.mode`, "vertical" when absent. A mode nobody knows is handed
    to the vertical class, whose `job.mode` then reports it with the modes there are."""
    if isinstance(value, _JobSpecBase):
        return value.MODE.value
    job = value.get("job") if isinstance(value, dict) else None
    mode = job.get("mode", ModeName.VERTICAL) if isinstance(job, dict) else ModeName.VERTICAL
    return mode if isinstance(mode, str) and mode in _SPECS else ModeName.VERTICAL.value


JobSpec = Annotated[
    Annotated[VerticalJobSpec, Tag("vertical")]
    | Annotated[HorizontalJobSpec, Tag("horizontal")]
    | Annotated[TransferJobSpec, Tag("transfer")],
    Discriminator(_mode_of),
]
"""A job spec of any mode; `job.mode` picks the class. Parse with `vfl.config.loading`."""

JOB_SPEC: TypeAdapter[JobSpec] = TypeAdapter(JobSpec)
"""Validates a dict (or JSON) as a `JobSpec`."""


def vertical(spec: JobSpec) -> VerticalJobSpec:
    """`spec` as the vertical spec a vertical program (PSI, split learning) reads; another
    mode is a one-line ConfigError (the program registry refuses such jobs before this)."""
    if not isinstance(spec, VerticalJobSpec):
        raise ConfigError(f"job.mode: this program runs vertical jobs, not {spec.job.mode!r} ones")
    return spec


def horizontal(spec: JobSpec) -> HorizontalJobSpec:
    """`spec` as the horizontal spec a horizontal program reads; another mode is a one-line
    ConfigError."""
    if not isinstance(spec, HorizontalJobSpec):
        raise ConfigError(
            f"job.mode: this program runs horizontal jobs, not {spec.job.mode!r} ones"
        )
    return spec


def transfer(spec: JobSpec) -> TransferJobSpec:
    """`spec` as the transfer spec a transfer program reads; another mode is a one-line
    ConfigError."""
    if not isinstance(spec, TransferJobSpec):
        raise ConfigError(f"job.mode: this program runs transfer jobs, not {spec.job.mode!r} ones")
    return spec


def spec_class(mode: str) -> type[_JobSpecBase]:
    """The spec class of `mode` (vertical for a mode nobody knows, as the union does)."""
    return _SPECS.get(mode, VerticalJobSpec)
