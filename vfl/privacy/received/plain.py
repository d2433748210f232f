"""F's view with `protection = "none"`: the `CutGradient` messages themselves."""

from __future__ import annotations

import numpy as np

from vfl.algorithms.split.messages import CutGradient
from vfl.privacy.audit_run import AuditRun
from vfl.privacy.received.gradient import ReceivedGradient, batch_gradient


def plain_gradients(run: AuditRun, party: str) -> list[ReceivedGradient]:
    out = []
    for entry, msg in run.transcript.messages(party, CutGradient):
        got = batch_gradient(run, party, entry.scope, msg.values.astype(np.float64))
        if got is not None:
            out.append(got)
    return out
