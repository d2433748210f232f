"""The align programs of each PSI protocol, apart from the training programs.

`parties/programs.py` is the one table of who runs what; its align entries come from here.
Local PSI runs (`vfl psi`, `benchmarks/psi.py`) start one process per party that only
aligns, and look their program up here: importing the full table pulls in torch and the
training code, which cost each party process ~2.5 s of start-up and ~3 s of CPU at exit,
more than a whole rr22 run at 2^16 IDs.
"""

from __future__ import annotations

from collections.abc import Callable

from psi.ecdh.feature_holder import EcdhFeatureHolder
from psi.ecdh.label_holder import EcdhLabelHolder
from psi.ids import IdSource, LocalIds
from psi.join.programs import JoinFeatureHolder, JoinLabelHolder
from psi.rr22.feature_holder import Rr22FeatureHolder
from psi.rr22.label_holder import Rr22LabelHolder
from psi.rr22.native import require_fastpsi
from psi.rsa.feature_holder import RsaFeatureHolder
from psi.rsa.label_holder import RsaLabelHolder
from vfl.config.job_spec import JobSpec, PartySpec, align_roles
from vfl.config.phase_plan import Phase, Role
from vfl.errors import ConfigError
from vfl.runtime.program import Program

_PsiProgram = Callable[[IdSource | None, int | None], Program]

_PSI: dict[tuple[str, Role], _PsiProgram] = {
    ("ecdh", Role.LABEL_HOLDER): EcdhLabelHolder,
    ("ecdh", Role.FEATURE_HOLDER): EcdhFeatureHolder,
    ("rsa", Role.LABEL_HOLDER): RsaLabelHolder,
    ("rsa", Role.FEATURE_HOLDER): RsaFeatureHolder,
    ("rr22", Role.LABEL_HOLDER): Rr22LabelHolder,
    ("rr22", Role.FEATURE_HOLDER): Rr22FeatureHolder,
    ("join", Role.LABEL_HOLDER): lambda source, workers: JoinLabelHolder(),
    ("join", Role.FEATURE_HOLDER): lambda source, workers: JoinFeatureHolder(),
}
_STREAMING = ("ecdh", "rsa", "rr22")
"""Align protocols that read their IDs from a `LocalIds` source (`vfl psi`)."""


def psi_program(spec: JobSpec, role: Role, local: LocalIds | None) -> Program:
    """The align program of PSI's `role` (label holder: the star centre) for the spec's
    `align.protocol`; a transfer source plays the label holder's side, the target the
    feature holder's."""
    protocol = align_roles(spec).align.protocol
    if protocol == "rr22":
        require_fastpsi()  # refused here, in one line, where spu is not installed
    if local is None:
        return _PSI[(protocol, role)](None, None)
    if protocol not in _STREAMING:
        raise ConfigError(
            f"align.protocol: {protocol!r} has no local runner; use 'ecdh', 'rsa' or 'rr22'"
        )
    return _PSI[(protocol, role)](local.source, local.workers)


def align_program_for(
    spec: JobSpec, phase: str, party: PartySpec, local: LocalIds | None = None
) -> Program:
    """`program_for` for a process that only aligns (a local PSI run): the same program the
    full table gives for a vertical job's align phase, without importing the rest."""
    if phase != Phase.ALIGN or party.role not in (Role.LABEL_HOLDER, Role.FEATURE_HOLDER):
        raise ConfigError(
            f"a local PSI run aligns only; no program for role {party.role!r} in {phase!r}"
        )
    return psi_program(spec, Role(party.role), local)
