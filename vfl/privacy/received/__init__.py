"""What a feature holder received as its cut-layer gradient, per training batch.

The seam between the protection modes and the label-inference attacks: one extractor per
`train.protection`, each giving F's view in the clear, i.e. what F itself computes from
the messages it received and the keys it holds. A new protection adds one entry here.
"""

from __future__ import annotations

from collections.abc import Callable

from vfl.config.job_spec import Protection, TransferJobSpec
from vfl.privacy.audit_run import AuditRun
from vfl.privacy.received.gradient import ReceivedGradient
from vfl.privacy.received.paillier import paillier_gradients
from vfl.privacy.received.plain import plain_gradients, transfer_gradients
from vfl.privacy.received.transfer_paillier import transfer_paillier_gradients

__all__ = ["EXTRACTORS", "ReceivedGradient", "received_gradients"]

Extractor = Callable[[AuditRun, str], list[ReceivedGradient]]

EXTRACTORS: dict[Protection, Extractor] = {"none": plain_gradients, "paillier": paillier_gradients}
TRANSFER_EXTRACTORS: dict[Protection, Extractor] = {
    "none": transfer_gradients,
    "paillier": transfer_paillier_gradients,
}
"""The transfer target's ∂L/∂u_B in plaintext; none per row under paillier."""


def received_gradients(run: AuditRun, party: str) -> list[ReceivedGradient]:
    """Every training batch's ∂loss/∂a as feature holder `party` saw it, in order."""
    table = TRANSFER_EXTRACTORS if isinstance(run.spec, TransferJobSpec) else EXTRACTORS
    extract = table[run.spec.train.protection]
    return run.memo(f"received_gradients/{party}", lambda: extract(run, party))
