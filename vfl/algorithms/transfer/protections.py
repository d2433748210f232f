"""`train.protection` → the two ends of its exchange: the one place a protection is added,
and what each protection needs of the rest of the spec (one-line ConfigErrors, asked by
the program registry's check_runnable before any data is read)."""

from __future__ import annotations

from vfl.algorithms.transfer.encrypted import PaillierSourceSide, PaillierTargetSide
from vfl.algorithms.transfer.exchange import Sides
from vfl.algorithms.transfer.plain import PlainSourceSide, PlainTargetSide
from vfl.config.job_spec import JobSpec, TransferJobSpec
from vfl.errors import ConfigError

SIDES: dict[str, Sides] = {
    "none": Sides(source=PlainSourceSide, target=PlainTargetSide),
    "paillier": Sides(source=PaillierSourceSide, target=PaillierTargetSide),
}


def _paillier_error(spec: TransferJobSpec) -> str | None:
    """Why a paillier transfer job cannot run as specified, or None (encrypted.py)."""
    if spec.model.task != "binary":
        return (
            f"model.task: {spec.model.task!r} under train.protection = 'paillier'; the "
            "encrypted FTL loss is the Taylor expansion of the binary logistic loss: use "
            "task = 'binary', or protection = 'none' for multiclass"
        )
    if spec.model.hidden:
        return (
            f"model.hidden: {spec.model.hidden} under train.protection = 'paillier'; only "
            "the last linear layer gets an exact federated gradient (a per-row gradient "
            "would reveal the peer's representations), so set hidden = [] (linear "
            "representations), or use protection = 'none'"
        )
    if spec.train.local_rounds != 1:
        return (
            f"train.local_rounds: {spec.train.local_rounds} under train.protection = "
            "'paillier'; the exchange returns a gradient, and more steps along the same "
            "gradient are one longer step: set local_rounds = 1 (or raise learning_rate)"
        )
    if spec.train.loss == "logistic":
        return (
            "train.loss: 'logistic' under train.protection = 'paillier'; Paillier computes "
            "only its Taylor expansion: set loss = 'taylor' or remove it"
        )
    return None


def check_protection(spec: TransferJobSpec) -> None:
    """Raise the one-line ConfigError of a protection the spec's other fields rule out."""
    if spec.train.protection == "paillier":
        error = _paillier_error(spec)
        if error is not None:
            raise ConfigError(error)
    elif spec.train.loss == "taylor" and spec.model.task != "binary":
        raise ConfigError(
            f"train.loss: 'taylor' is the binary logistic loss's expansion, but model.task "
            f"= {spec.model.task!r}; remove train.loss for multiclass"
        )


def sides_for(spec: JobSpec) -> Sides:
    """The sides of the spec's `train.protection`; a protection not built, or one the
    spec rules out, is a one-line ConfigError."""
    protection = spec.train.protection if isinstance(spec, TransferJobSpec) else "none"
    sides = SIDES.get(protection)
    if sides is None:
        built = " or ".join(repr(p) for p in sorted(SIDES))
        raise ConfigError(
            f"train.protection: {protection!r} is not built yet for transfer jobs; use {built}"
        )
    if isinstance(spec, TransferJobSpec):
        check_protection(spec)
    return sides
