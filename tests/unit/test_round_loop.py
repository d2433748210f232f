"""The contract of the one training loop (vfl/runtime/round_loop.py), on both checkpoint
formats: a loop killed in any step resumes after the last finished one with the state it
had then; a checkpoint write that dies half-way leaves the previous checkpoint whole; a
checkpoint made for another number of steps is refused in one line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from vfl.errors import ConfigError
from vfl.runtime.checkpoint_file import ArrayCheckpoint, CheckpointFile, TorchCheckpoint
from vfl.runtime.round_loop import RoundLoop
from vfl.runtime.workspace import Workspace

STEPS = 5
Format = Callable[[Workspace], CheckpointFile]
FORMATS: dict[str, Format] = {
    "torch": lambda ws: TorchCheckpoint(ws, "train", "epoch"),
    "npz": lambda ws: ArrayCheckpoint(ws, "aggregator", "round"),
}


class CrashError(Exception):
    """The power goes out."""


class Walk:
    """A state each step changes in a way that depends on all earlier steps."""

    def __init__(self, torch_format: bool) -> None:
        self.x = np.zeros(3)
        self.torch_format = torch_format

    def state(self) -> dict[str, Any]:
        return {"x": torch.from_numpy(self.x.copy()) if self.torch_format else self.x.copy()}

    def load_state(self, saved: dict[str, Any]) -> None:
        value = saved["x"]
        self.x = value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)

    def step(self, k: int) -> float:
        self.x = self.x * 1.5 + np.array([k, k * k, 1.0])
        return float(self.x.sum())


@pytest.fixture(params=sorted(FORMATS))
def fmt(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _loop(tmp_path: Path, fmt: str, steps: int = STEPS) -> tuple[RoundLoop, Walk]:
    walk = Walk(fmt == "torch")
    return RoundLoop(steps, walk, FORMATS[fmt](Workspace(tmp_path / "ws"))), walk


def _uninterrupted(tmp_path: Path, fmt: str) -> list[np.ndarray]:
    """The state after each step of a run nobody interrupted."""
    loop, walk = _loop(tmp_path / "whole", fmt)
    states: list[np.ndarray] = []
    loop.run(walk.step, lambda k, _: states.append(walk.x.copy()))
    return states


@pytest.mark.parametrize("crash_in", range(1, STEPS))
def test_a_loop_killed_in_step_k_resumes_at_k_with_the_state_after_k_minus_1(
    tmp_path: Path, fmt: str, crash_in: int
) -> None:
    whole = _uninterrupted(tmp_path, fmt)

    def dies(k: int) -> float:
        if k == crash_in:
            raise CrashError
        return walk.step(k)

    loop, walk = _loop(tmp_path, fmt)
    with pytest.raises(CrashError):
        loop.run(dies)

    loop, walk = _loop(tmp_path, fmt)  # a new program on the same workspace
    assert loop.resume() == crash_in
    np.testing.assert_array_equal(walk.x, whole[crash_in - 1])
    ran: list[int] = []
    assert loop.run(walk.step, lambda k, _: ran.append(k)) == STEPS
    assert ran == list(range(crash_in, STEPS))
    np.testing.assert_array_equal(walk.x, whole[-1])


def test_a_crash_after_the_reports_but_before_the_checkpoint_replays_that_step(
    tmp_path: Path, fmt: str
) -> None:
    """Reports go out before the checkpoint: a step whose reports were sent but whose
    checkpoint was not written runs again (reports are keyed by step, so replaced)."""

    def after(k: int, _: float) -> None:
        if k == 2:
            raise CrashError

    loop, walk = _loop(tmp_path, fmt)
    with pytest.raises(CrashError):
        loop.run(walk.step, after)
    assert _loop(tmp_path, fmt)[0].resume() == 2


def _dies_half_way(*args: Any, **kwargs: Any) -> None:
    """torch.save / np.savez when the disk fills up: some bytes written, then OSError."""
    fh = next(a for a in args if hasattr(a, "write"))
    fh.write(b"PK\x03\x04 half a checkpoint")
    raise OSError(28, "No space left on device")


@pytest.fixture
def half_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Call it to make every later checkpoint write die after writing some bytes."""

    def arm() -> None:
        monkeypatch.setattr(torch, "save", _dies_half_way)
        monkeypatch.setattr(np, "savez", _dies_half_way)

    yield arm


def test_a_half_written_checkpoint_is_never_read(
    tmp_path: Path, fmt: str, half_writes: Callable[[], None]
) -> None:
    whole = _uninterrupted(tmp_path, fmt)

    def step(k: int) -> float:
        if k == 2:
            half_writes()  # the disk fills up while step 2's checkpoint is written
        return walk.step(k)

    loop, walk = _loop(tmp_path, fmt)
    with pytest.raises(OSError, match="No space left"):
        loop.run(step)
    checkpoint = FORMATS[fmt](Workspace(tmp_path / "ws"))
    left = [p.name for p in (tmp_path / "ws" / "checkpoints").iterdir()]
    assert left == [checkpoint.name + checkpoint.suffix]  # the temporary file is gone
    loop, walk = _loop(tmp_path, fmt)
    assert loop.resume() == 2
    np.testing.assert_array_equal(walk.x, whole[1])


def test_a_temporary_file_left_by_kill_9_is_never_read(tmp_path: Path, fmt: str) -> None:
    loop, walk = _loop(tmp_path, fmt)
    loop.run(walk.step, stop=lambda k: k == 1)
    checkpoint = FORMATS[fmt](Workspace(tmp_path / "ws"))
    stray = tmp_path / "ws" / "checkpoints" / f".{checkpoint.name}{checkpoint.suffix}x1y2"
    stray.write_bytes(b"PK\x03\x04 killed while writing")
    resumed, walk = _loop(tmp_path, fmt)
    assert resumed.resume() == 2


@pytest.mark.parametrize("steps", [STEPS - 1, STEPS + 1])
def test_a_checkpoint_for_another_number_of_steps_is_refused(
    tmp_path: Path, fmt: str, steps: int
) -> None:
    loop, walk = _loop(tmp_path, fmt)
    loop.run(walk.step, stop=lambda k: k == 1)
    counter = FORMATS[fmt](Workspace(tmp_path)).counter
    with pytest.raises(ConfigError) as refused:
        _loop(tmp_path, fmt, steps)[0].resume()
    message = str(refused.value)
    assert "\n" not in message
    assert f"saved after {counter} 2 of {STEPS} but this job has {steps} {counter}s" in message
    assert "checkpoints" in message and "cannot change on resume" in message


def test_a_checkpoint_written_before_step_counts_were_recorded_still_resumes(
    tmp_path: Path,
) -> None:
    """Files from earlier versions hold only the counter: they resume, unless they are
    already past this job's last step."""
    ws = Workspace(tmp_path / "ws")
    ws.save_checkpoint("train", {"x": torch.ones(3, dtype=torch.float64), "epoch": 1})
    loop, walk = _loop(tmp_path, "torch")
    assert loop.resume() == 2
    np.testing.assert_array_equal(walk.x, np.ones(3))
    ws.save_arrays("aggregator", {"x": np.ones(3), "round": np.array(STEPS)})
    with pytest.raises(ConfigError, match=f"saved after round {STEPS + 1} but this job has 5"):
        _loop(tmp_path, "npz")[0].resume()


def test_stop_ends_the_loop_and_a_resumed_loop_stays_stopped(tmp_path: Path, fmt: str) -> None:
    loop, walk = _loop(tmp_path, fmt)
    ran: list[int] = []
    stop_after_2: Callable[[int], bool] = lambda k: k >= 2  # noqa: E731
    assert loop.run(walk.step, lambda k, _: ran.append(k), stop_after_2) == 3
    resumed, walk = _loop(tmp_path, fmt)
    assert resumed.run(walk.step, lambda k, _: ran.append(k), stop_after_2) == 3
    assert ran == [0, 1, 2]


def test_a_loop_without_a_checkpoint_file_saves_and_loads_nothing(tmp_path: Path) -> None:
    walk = Walk(False)
    assert RoundLoop(STEPS, walk, None).run(walk.step) == STEPS
    assert RoundLoop(STEPS, Walk(False), None).resume() == 0
