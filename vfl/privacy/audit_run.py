"""A finished simulated job as the auditor sees it: the input of every attack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from vfl.algorithms.split.schedule import BatchSchedule
from vfl.config.job_spec import TransferJobSpec, VerticalJobSpec
from vfl.dataset import PartyDataset
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace

_T = TypeVar("_T")


@dataclass(eq=False)
class AuditRun:
    """What each party received (`transcript`), each party's workspace (where its own
    keys are, which an attacking party legitimately holds), and the ground truth attacks
    are scored against: each party's rows in the aligned order every program used."""

    spec: VerticalJobSpec | TransferJobSpec
    job_id: str
    transcript: Transcript
    workspaces: dict[str, Workspace]
    data: dict[str, PartyDataset]
    """Aligned rows of every party: the auditor's knowledge, never an attacker's."""
    spec_digest: bytes | None = None
    """The spec digest the parties' secrets were bound to; None: the spec's own."""
    _memo: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def label_party(self) -> str:
        """The party holding the labels: the vertical label holder, the transfer source."""
        if isinstance(self.spec, TransferJobSpec):
            return self.spec.source.name
        return self.spec.label_holder.name

    @property
    def gradient_receivers(self) -> tuple[str, ...]:
        """The parties that receive a label-carrying gradient: the feature holders, the
        transfer target (∂L/∂u_B)."""
        if isinstance(self.spec, TransferJobSpec):
            return (self.spec.target.name,)
        return tuple(p.name for p in self.spec.feature_holders)

    def secret(self, party: str) -> PartySecret:
        """`party`'s secret as its programs derived it: an attacker's own knowledge."""
        if self.spec_digest is not None:
            return PartySecret.load(self.workspaces[party], self.job_id, party, self.spec_digest)
        return PartySecret.for_spec(self.workspaces[party], self.job_id, party, self.spec)

    def batch_rows(self, epoch: int, batch: int) -> NDArray[np.int64]:
        """The rows (of `data`) of a training batch, as every party derived them from the
        job seed."""
        return self.memo(f"batches/{epoch}", lambda: self._schedule().train_batches(epoch))[batch]

    def _schedule(self) -> BatchSchedule:
        t = self.spec.train
        rows = self.data[self.label_party].rows
        return self.memo(
            "schedule",
            lambda: BatchSchedule(rows, t.batch_size, t.validation_fraction, self.spec.job.seed),
        )

    def positives(self) -> NDArray[np.bool_]:
        """Per aligned row, whether the label holder's binary label is 1 (the loader
        admits only 0 and 1 for task = "binary")."""
        labels = self.data[self.label_party].labels
        assert labels is not None, "the label holder's dataset carries labels"
        positive: NDArray[np.bool_] = labels == 1.0
        return positive

    def memo(self, key: str, compute: Callable[[], _T]) -> _T:
        """`compute()` once per run and key: attacks share costly extractions (e.g.
        decrypting every gradient a feature holder received under Paillier)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(_T, self._memo[key])
