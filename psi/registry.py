"""The PSI programs by protocol and role, for runs outside a job (`vfl psi`, benchmarks).

Jobs choose programs through `parties/programs.py`; this table lets a local run pass an
ID source (a CSV streamed in chunks) and a worker count to the same classes.
"""

from __future__ import annotations

from psi.ecdh.feature_holder import EcdhFeatureHolder
from psi.ecdh.label_holder import EcdhLabelHolder
from psi.ids import IdSource
from psi.rsa.feature_holder import RsaFeatureHolder
from psi.rsa.label_holder import RsaLabelHolder
from vfl.errors import ConfigError
from vfl.runtime.program import Program


def align_program(protocol: str, role: str, source: IdSource, workers: int | None) -> Program:
    if protocol == "ecdh":
        if role == "label_holder":
            return EcdhLabelHolder(source, workers)
        return EcdhFeatureHolder(source, workers)
    if protocol == "rsa":
        if role == "label_holder":
            return RsaLabelHolder(source, workers)
        return RsaFeatureHolder(source, workers)
    raise ConfigError(f"align.protocol: {protocol!r} has no local runner; use 'ecdh' or 'rsa'")
