"""Kill one participant of a horizontal job as it starts round 2 and restart it alone.

The restarted program resumes from its round-1 checkpoint (RoundLoop), re-sends what it
sent before under the same sequence numbers (its ledger is kept, so the replay guard
refuses any different body: secure aggregation's masks, a top-k residual, the global
model) and receives what it had received from a journal. The job then ends with exactly
the model of a run nobody interrupted.
"""

from __future__ import annotations

import contextlib
import threading
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parties.data import load_dataset
from parties.programs import program_for_role
from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from tests.unit.split_paillier.restart_harness import CrashError, JournalHub
from vfl.api import simulate
from vfl.config.job_spec import HorizontalJobSpec, horizontal
from vfl.config.loading import load_job
from vfl.config.phase_plan import COORDINATOR
from vfl.protocol.envelope import Envelope
from vfl.runtime.channel import Channel, ForwardingChannel
from vfl.runtime.context import PartyContext, party_context
from vfl.runtime.events import NullReporter
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.party_secret import secret_file
from vfl.runtime.simulator import PartyRun, run_phase
from vfl.runtime.workspace import Workspace

JOB_ID = "horizontal-restart"
CRASH_SCOPE = "train/round=2"
VARIANTS: dict[str, dict[str, Any]] = {
    "secure": {"secure_aggregation": True},
    "topk-fedadam": {
        "secure_aggregation": False,
        "compression": "topk",
        "topk_fraction": 0.5,
        "strategy": "fedadam",
    },
}


class DiesAtRound(ForwardingChannel):
    """Forwards everything, but dies instead of sending the first envelope of a scope."""

    def __init__(self, inner: Channel, scope: str) -> None:
        super().__init__(inner)
        self.scope, self.crashed = scope, False

    def send(self, envelope: Envelope) -> None:
        if envelope.seq.startswith(self.scope) and not self.crashed:
            self.crashed = True
            raise CrashError(f"{envelope.src} dies before sending {envelope.seq}")
        self._inner.send(envelope)


def _secret(name: str) -> bytes:
    """Fixed party secrets, so both runs draw the same masks and batches."""
    return name.encode().ljust(32, b".")


def _params(workdir: Path) -> np.ndarray:
    with np.load(workdir / COORDINATOR / "model" / "weights.npz") as stored:
        params: np.ndarray = stored["params"].copy()
    return params


def _with_restart(spec: HorizontalJobSpec, workdir: Path, victim: str) -> None:
    """train (victim killed at round 2, restarted on its workspace and ledger) → evaluate."""
    hub = JournalHub()
    names = [p.name for p in spec.parties] + [COORDINATOR]
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    ledgers = {n: MemoryLedger() for n in names}
    for n in names:
        Workspace(workdir / n).private(secret_file(JOB_ID), partial(_secret, n))

    def ctx(name: str, phase: str, channel: Channel) -> PartyContext:
        return party_context(
            spec,
            name,
            JOB_ID,
            phase,
            channel=channel,
            workspace=Workspace(workdir / name),
            reporter=NullReporter(),
            ledger=ledgers[name],
            data=datasets.get(name),
        )

    errors: dict[str, BaseException] = {}
    dying = DiesAtRound(hub.channel(victim), CRASH_SCOPE)

    def train(name: str) -> None:
        try:
            live = ctx(name, "train", hub.channel(name))
            program = program_for_role(spec, "train", live.role)
            if name == victim:
                with contextlib.suppress(CrashError):
                    program.run(ctx(name, "train", dying))
                program = program_for_role(spec, "train", live.role)  # a new program
            program.run(live)
        except BaseException as exc:  # reported below
            errors[name] = exc
            hub.abort(JOB_ID, f"party {name} failed")

    threads = [threading.Thread(target=train, args=(n,), daemon=True) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert dying.crashed, f"{victim} never reached {CRASH_SCOPE}"
    runs = {
        n: PartyRun(
            program_for_role(spec, "evaluate", ctx(n, "evaluate", hub.channel(n)).role),
            ctx(n, "evaluate", hub.channel(n)),
        )
        for n in names
    }
    run_phase(hub, JOB_ID, runs)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("victim", ["site-b", COORDINATOR])
def test_a_restarted_participant_replays_its_round_and_the_model_is_unchanged(
    tmp_path: Path, variant: str, victim: str
) -> None:
    paths = synthetic_horizontal(tmp_path / "data", parties=3, rows=96, width=4)
    path = write_toml(tmp_path / "job.toml", horizontal_dict(paths, train=VARIANTS[variant]))
    spec = horizontal(load_job(path))
    names = [p.name for p in spec.parties] + [COORDINATOR]
    fixed = {n: _secret(n) for n in names}
    whole = simulate(path, workdir=tmp_path / "whole", job_id=JOB_ID, party_secrets=fixed)
    assert whole.status == "succeeded", whole.error

    _with_restart(spec, tmp_path / "restarted", victim)
    np.testing.assert_array_equal(_params(tmp_path / "restarted"), _params(tmp_path / "whole"))
