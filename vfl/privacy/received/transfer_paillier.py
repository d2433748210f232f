"""The transfer target's per-row view under `protection = "paillier"`: none.

Under paillier the target decrypts only the source's masked head gradient (uniform
residues, X_A + R_A mod n_B) and gets back its own head gradient, an aggregate over the
batch ((p+1)×d); no message carries a per-row value it can read (paillier/messages.py).
So a per-row label-inference attack has nothing to score: the extractor returns no batch,
after checking that the transcript does hold the encrypted exchange (a transcript of
another protection is an error, not an empty view). What the aggregate does reveal is
attacked in tests/unit/transfer_paillier/test_reconstruction_attack.py (projection onto
the owner's own head inputs, ≤ 25 % of the energy by the row guard).
"""

from __future__ import annotations

from vfl.algorithms.transfer.paillier.messages import OpenedTargetGradient
from vfl.errors import ProtocolError
from vfl.privacy.audit_run import AuditRun
from vfl.privacy.received.gradient import ReceivedGradient, training_batch


def transfer_paillier_gradients(run: AuditRun, party: str) -> list[ReceivedGradient]:
    batches = [
        entry.scope
        for entry, _ in run.transcript.messages(party, OpenedTargetGradient)
        if training_batch(entry.scope) is not None
    ]
    if not batches:
        raise ProtocolError(
            f"audit: {party} received no transfer_paillier.OpenedTargetGradient in training; "
            "the transcript is not from a paillier transfer run of this spec"
        )
    return []
