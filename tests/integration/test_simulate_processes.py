"""`simulate(backend=Backend.PROCESSES)` trains the model the thread simulator trains; a
party's invalid rows raise as with threads; a party whose process dies mid-phase fails the
job under its own name, its peer is aborted, and no process outlives the job.

Same programs, same party secrets, other processes. A party whose secret did not reach its
process would draw other initial weights and masks, and the weights would differ. The
results are compared exactly: both backends run the same torch ops in the same order on
the same CPU, one intra-op thread per process does not reorder sums on matrices this
small (far under torch's parallel grain), and only the transport differs.

Each test spawns two interpreters that import torch (a few seconds each), so there are
few of them.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
import torch

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.api import Backend, simulate
from vfl.config.job_spec import VerticalJobSpec
from vfl.errors import DataValidationError
from vfl.result import JobResult
from vfl.runtime.events import Event, StepReport

JOB_ID = "split-processes"


def _spec(tmp: Path, task: str = "binary", **train: object) -> VerticalJobSpec:
    paths = synthetic_vertical(tmp, {"bank": 4, "bureau": 3}, rows=160, seed=3)
    if task == "multiclass":  # one class only: the loader refuses it
        frame = pd.read_csv(paths["bank"])
        frame["y"] = 0
        frame.to_csv(paths["bank"], index=False)
    return job_spec(job_dict(paths, model={"task": task}, train={"epochs": 2, **train}))


def _weights(workdir: Path, party: str) -> dict[str, torch.Tensor]:
    """Every tensor of the party's saved part, by its dotted path in the nested state."""
    saved = torch.load(workdir / party / "model" / "weights.pt", weights_only=True)
    flat: dict[str, torch.Tensor] = {}

    def walk(prefix: str, node: object) -> None:
        if isinstance(node, torch.Tensor):
            flat[prefix] = node
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}", value)

    walk("", saved)
    return flat


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class _KillOnFirstStep:
    """Kills `party`'s process when it reports its first training step: a party that dies
    mid-phase, as one killed by the OOM killer would. Records every child's pid."""

    def __init__(self, party: str) -> None:
        self.party = party
        self.pids: dict[str, int] = {}

    def report(self, party: str, event: Event) -> None:
        for child in multiprocessing.active_children():
            if child.name.startswith("vfl-") and child.pid is not None:
                self.pids[child.name] = child.pid
        if party == self.party and isinstance(event, StepReport) and self.party not in self.pids:
            self.pids[self.party] = self.pids[f"vfl-{party}"]
            os.kill(self.pids[self.party], signal.SIGKILL)


def test_processes_backend_trains_the_model_the_threads_backend_trains(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    secrets = {p.name: hashlib.sha256(p.name.encode()).digest() for p in spec.parties}

    def run(backend: Backend) -> JobResult:
        return simulate(
            spec,
            workdir=tmp_path / backend.value,
            home=tmp_path / f"home-{backend.value}",
            job_id=JOB_ID,
            party_secrets=secrets,
            backend=backend,
        )

    threads, processes = run(Backend.THREADS), run(Backend.PROCESSES)

    assert threads.status == "succeeded", threads.error
    assert processes.status == "succeeded", processes.error
    for party in ("bank", "bureau"):
        expected = _weights(tmp_path / "threads", party)
        got = _weights(tmp_path / "processes", party)
        assert got.keys() == expected.keys()
        assert expected  # a part with no tensors would compare equal to anything
        for name, tensor in expected.items():
            assert torch.equal(got[name], tensor), f"{party} {name}"
    assert processes.history == threads.history
    assert processes.metrics == threads.metrics
    assert processes.bytes == threads.bytes
    assert processes.bytes["bureau"]["sent"] > 0


def test_invalid_rows_in_a_party_process_raise_the_error_threads_raise(tmp_path: Path) -> None:
    # One class of labels for a multiclass task: the label holder's loader refuses its rows
    # before any phase runs. The error crosses the control pipe as JSON and must come out
    # as the same class with the same line, the children stopped.
    spec = _spec(tmp_path, task="multiclass")
    with pytest.raises(DataValidationError) as on_threads:
        simulate(spec, workdir=tmp_path / "threads", home=tmp_path / "h1")

    with pytest.raises(DataValidationError) as in_processes:
        simulate(
            spec, workdir=tmp_path / "processes", home=tmp_path / "h2", backend=Backend.PROCESSES
        )

    assert str(in_processes.value) == str(on_threads.value)
    assert "single class" in str(in_processes.value)
    assert not [c for c in multiprocessing.active_children() if c.name.startswith("vfl-")]


def test_a_party_process_that_dies_is_named_and_no_process_outlives_the_job(
    tmp_path: Path,
) -> None:
    # bureau would wait an hour for bank's next message: the test ends (before pytest's
    # timeout) only if bank's death aborts bureau across the processes.
    spec = _spec(tmp_path, timeout_s=3600)
    killer = _KillOnFirstStep("bank")

    result = simulate(spec, workdir=tmp_path / "run", reporter=killer, backend=Backend.PROCESSES)

    assert result.status == "failed"
    assert result.error == f"party bank: its process exited with code {-signal.SIGKILL}"
    assert set(killer.pids) == {"bank", "vfl-bank", "vfl-bureau"}
    assert all(_gone(pid) for pid in killer.pids.values())


def test_a_main_module_that_must_not_run_again_is_not_rerun_in_the_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """spawn re-runs the parent's `__main__` in each child: a user's unguarded script would
    run its job again, and after a Streamlit AppTest in the same process (CI's lanes)
    `__main__` is a Streamlit app that fails outside a session. Here `__main__` is a script
    that exits the moment it is imported; the children must never import it."""
    script = tmp_path / "unguarded.py"
    script.write_text("raise SystemExit('the parent script ran again in a party process')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    spec = _spec(tmp_path)
    result = simulate(spec, workdir=tmp_path / "run", backend=Backend.PROCESSES)
    assert result.status == "succeeded", result.error
    assert sys.modules["__main__"] is main
