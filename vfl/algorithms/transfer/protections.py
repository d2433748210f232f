"""`train.protection` → the two ends of its exchange: the one place a protection is added."""

from __future__ import annotations

from vfl.algorithms.transfer.exchange import Sides
from vfl.algorithms.transfer.plain import PlainSourceSide, PlainTargetSide
from vfl.config.job_spec import JobSpec, TransferJobSpec
from vfl.errors import ConfigError

SIDES: dict[str, Sides] = {
    "none": Sides(source=PlainSourceSide, target=PlainTargetSide),
    # "paillier": the Taylor-expanded exchange of paillier/ (being built)
}


def sides_for(spec: JobSpec) -> Sides:
    """The sides of the spec's `train.protection`; one not built is a one-line ConfigError
    (the program registry's check_runnable asks here before any data is read)."""
    protection = spec.train.protection if isinstance(spec, TransferJobSpec) else "none"
    sides = SIDES.get(protection)
    if sides is None:
        built = " or ".join(repr(p) for p in sorted(SIDES))
        raise ConfigError(
            f"train.protection: {protection!r} is not built yet for transfer jobs; use {built}"
        )
    return sides
