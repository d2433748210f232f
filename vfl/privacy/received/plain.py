"""The view with `protection = "none"`: the gradient messages themselves (a feature
holder's `CutGradient`, a transfer target's `RepresentationGradient`)."""

from __future__ import annotations

import numpy as np

from vfl.algorithms.split.messages import CutGradient
from vfl.algorithms.transfer.messages import RepresentationGradient
from vfl.privacy.audit_run import AuditRun
from vfl.privacy.received.gradient import ReceivedGradient, batch_gradient


def plain_gradients(run: AuditRun, party: str) -> list[ReceivedGradient]:
    out = []
    for entry, msg in run.transcript.messages(party, CutGradient):
        got = batch_gradient(run, party, entry.scope, msg.values.astype(np.float64))
        if got is not None:
            out.append(got)
    return out


def transfer_gradients(run: AuditRun, party: str) -> list[ReceivedGradient]:
    """The transfer target's view in plaintext: the `RepresentationGradient` messages."""
    out = []
    for entry, msg in run.transcript.messages(party, RepresentationGradient):
        got = batch_gradient(run, party, entry.scope, msg.values.astype(np.float64))
        if got is not None:
            out.append(got)
    return out
