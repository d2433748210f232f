"""party.toml [policy]: what this party accepts, checked when a job asks for its approval.

    [policy]
    align_protocols = ["ecdh", "rsa"]  # add "join" (raw IDs cross) only for test data
    protections = ["paillier"]         # add "none" for peers this party trusts
    min_key_bits = 2048                # Paillier (train.key_bits) and RSA-PSI (align.key_bits)
    require_label_dp = false           # true: only jobs with [privacy] label-DP
    max_epochs = 1000                  # budgets: what a peer's spec may make this party do
    max_parameters = 10_000_000        #   this party's model part, parameters
    memory_budget_mb = 4096            #   its estimated training memory

A job spec names what it wants; the party's own file decides what it runs. A job outside
policy is refused at approval — by the node on sight (auto-approve or not) and by
`vfl party approve` — with one line naming the job, the spec field, the rule and the fix,
and fails attributed to this party before any phase starts. The node checks again before
each phase, so a job approved some other way still never runs outside policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from vfl.config.job_spec import (
    MIN_KEY_BITS,
    AlignProtocol,
    JobSpec,
    Protection,
    TransferJobSpec,
    VerticalJobSpec,
)
from vfl.config.model_size import ModelSize


class PolicyRule(StrEnum):
    """The rules of [policy], by their key in party.toml."""

    ALIGN_PROTOCOLS = "align_protocols"
    PROTECTIONS = "protections"
    MIN_KEY_BITS = "min_key_bits"
    REQUIRE_LABEL_DP = "require_label_dp"
    MAX_EPOCHS = "max_epochs"
    MAX_PARAMETERS = "max_parameters"
    MEMORY_BUDGET_MB = "memory_budget_mb"


@dataclass(frozen=True)
class Refusal:
    """Why a job is outside policy: the rule it breaks and one line for the people involved
    (job, spec field, rule, fix)."""

    rule: PolicyRule
    line: str


class PartyPolicy(BaseModel):
    """The jobs this party accepts; the defaults refuse raw-ID alignment and plaintext
    cut-layer values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    align_protocols: tuple[AlignProtocol, ...] = Field(default=("ecdh", "rsa"), min_length=1)
    """`align.protocol` values this party runs; "join" sends raw IDs to the coordinator's
    relay and peers, so it is refused unless listed."""
    protections: tuple[Protection, ...] = Field(default=("paillier",), min_length=1)
    """`train.protection` values this party runs; "none" shows peers plaintext cut-layer
    activations and gradients, so it is refused unless listed."""
    min_key_bits: int = Field(default=MIN_KEY_BITS, ge=MIN_KEY_BITS, le=8192)
    """Smallest Paillier (`train.key_bits`, protection paillier) and RSA-PSI
    (`align.key_bits`, protocol rsa) modulus this party accepts."""
    require_label_dp: bool = False
    """Accept only jobs whose [privacy] table turns label-DP on."""
    max_epochs: int = Field(default=1000, ge=1, le=10_000)
    """Most training epochs a job may ask of this party."""
    max_parameters: int = Field(default=10_000_000, ge=1)
    """Most parameters in this party's part of the model (model_size.py)."""
    memory_budget_mb: int = Field(default=4096, ge=64)
    """Most estimated training memory for this party's part (model_size.py), in MiB."""

    def refusal(self, spec: JobSpec, job_id: str, party: str | None = None) -> Refusal | None:
        """The first rule job `job_id` breaks, or None if this party accepts it. With
        `party` (this party's name in the job) its budgets are checked too. The rules on
        align protocols, protections, keys and label-DP are about vertical and transfer
        sections (a transfer job has no label-DP: require_label_dp refuses it); a job
        of a mode this version cannot run is refused by the program registry instead."""
        aligned = spec if isinstance(spec, VerticalJobSpec | TransferJobSpec) else None
        broken = self._broken(aligned) if aligned is not None else None
        found = broken or (self._over_budget(spec, party) if party else None)
        return None if found is None else Refusal(found[0], f"job {job_id}: {found[1]}")

    def _over_budget(self, spec: JobSpec, party: str) -> tuple[PolicyRule, str] | None:
        where = "party.toml [policy]"
        if spec.train.epochs > self.max_epochs:
            return PolicyRule.MAX_EPOCHS, (
                f"train.epochs = {spec.train.epochs} is above {where} max_epochs = "
                f"{self.max_epochs}; raise max_epochs or ask for fewer epochs"
            )
        if not isinstance(spec, VerticalJobSpec):
            return None  # ModelSize estimates split models only
        size = ModelSize.of(spec, party)
        if size.parameters > self.max_parameters:
            return PolicyRule.MAX_PARAMETERS, (
                f"model: this party's part has {size.parameters:,} parameters, above {where} "
                f"max_parameters = {self.max_parameters:,}; raise it or ask for smaller "
                "model widths"
            )
        if size.memory_mb > self.memory_budget_mb:
            return PolicyRule.MEMORY_BUDGET_MB, (
                f"model and train.batch_size need about {size.memory_mb:,} MiB here, above "
                f"{where} memory_budget_mb = {self.memory_budget_mb:,}; raise it or ask for "
                "a smaller model or batch"
            )
        return None

    def _broken(self, spec: VerticalJobSpec | TransferJobSpec) -> tuple[PolicyRule, str] | None:
        where = "party.toml [policy]"
        protocol = spec.align.protocol
        if protocol not in self.align_protocols:
            allowed = ", ".join(self.align_protocols)
            return PolicyRule.ALIGN_PROTOCOLS, (
                f"align.protocol = {protocol!r} is not allowed by {where} align_protocols "
                f"(allowed: {allowed}); add it or ask for {_either(self.align_protocols)}"
            )
        protection = spec.train.protection
        if protection not in self.protections:
            allowed = ", ".join(self.protections)
            return PolicyRule.PROTECTIONS, (
                f"train.protection = {protection!r} is not allowed by {where} protections "
                f"(allowed: {allowed}); add it or ask for {_either(self.protections)}"
            )
        keys = []
        if protection == "paillier" and isinstance(spec, VerticalJobSpec | TransferJobSpec):
            keys.append(("train.key_bits", spec.train.key_bits))
        if protocol == "rsa":
            keys.append(("align.key_bits", spec.align.key_bits))
        for field, bits in keys:
            if bits < self.min_key_bits:
                return PolicyRule.MIN_KEY_BITS, (
                    f"{field} = {bits} is below {where} min_key_bits = {self.min_key_bits}; "
                    f"lower min_key_bits or ask for {field} >= {self.min_key_bits}"
                )
        if self.require_label_dp and not (
            isinstance(spec, VerticalJobSpec) and spec.privacy.label_dp
        ):
            return PolicyRule.REQUIRE_LABEL_DP, (
                f"[privacy] turns no label-DP on, but {where} require_label_dp = true; set it "
                "to false or ask for [privacy] label_dp_epsilon"
            )
        return None


def _either(values: tuple[str, ...]) -> str:
    return " or ".join(values)
