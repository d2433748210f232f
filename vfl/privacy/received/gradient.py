"""One batch's cut-layer gradient as a feature holder saw it, and where batches live."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vfl.errors import ProtocolError
from vfl.privacy.audit_run import AuditRun


@dataclass(frozen=True)
class ReceivedGradient:
    """∂loss/∂a (B×d) as one feature holder got it for one training batch."""

    epoch: int
    batch: int
    rows: NDArray[np.int64]
    """The batch's aligned row indices, in batch order (row i of `values` is rows[i])."""
    values: NDArray[np.float64]


def training_batch(scope: str) -> tuple[int, int] | None:
    """(epoch, batch) of a training batch's message scope ("train/epoch=2/batch=5"); None
    for any other scope (handshakes, validation and evaluate passes)."""
    head, *rest = scope.split("/")
    parts = dict(p.split("=", 1) for p in rest if "=" in p)
    if head != "train" or set(parts) != {"epoch", "batch"}:
        return None
    return int(parts["epoch"]), int(parts["batch"])


def batch_gradient(
    run: AuditRun, party: str, scope: str, values: NDArray[np.float64]
) -> ReceivedGradient | None:
    """`values` received in `scope`, with the rows the job's schedule put in that batch."""
    where = training_batch(scope)
    if where is None:
        return None
    epoch, batch = where
    rows = run.batch_rows(epoch, batch)
    if values.shape[0] != len(rows):
        raise ProtocolError(
            f"audit: {party} received {values.shape[0]} gradient rows in {scope}, the "
            f"schedule has {len(rows)}; the transcript is not from this job spec"
        )
    return ReceivedGradient(epoch, batch, rows, values)
