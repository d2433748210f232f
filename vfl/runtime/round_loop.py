"""The loop every training phase runs, written once: split training's epochs, a sample
holder's and the aggregator's rounds (as Flower's `Strategy.start` is for its strategies).

    resume: load the last finished step's checkpoint into the state (none: start at 0)
    for each remaining step k:
        step(k)          the protocol's work; its messages are scoped by k
        after(k, out)    reports (EpochReport, Progress), as each role sent them
        checkpoint       the state after k, atomically (CheckpointFile)
        stop(k)?         end early (the stop condition reads only checkpointed state)

A program killed anywhere in step k + 1 restarts, loads the state after k and replays
k + 1 under the same sequence numbers; its peers keep the first copies and the replay
guard checks the re-sent bodies are identical. That is sound because everything a step
draws comes from the party secret and the step's scope, and everything it carries to the
next step is in the state the loop checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from vfl.runtime.checkpoint_file import CheckpointFile
from vfl.runtime.context import PartyContext
from vfl.runtime.events import EpochReport, Progress

_R = TypeVar("_R")


class LoopState(Protocol):
    """What a loop carries from step to step, as the values its checkpoint stores."""

    def state(self) -> dict[str, Any]:
        """The values to checkpoint after a step (without the step counter)."""
        ...

    def load_state(self, saved: dict[str, Any]) -> None:
        """Restore what `state` returned."""
        ...


def _nothing(step: int, outcome: object) -> None:
    return None


def _never(step: int) -> bool:
    return False


class RoundLoop:
    """`steps` epochs or rounds over `state`, checkpointed to `checkpoint` after each;
    `checkpoint=None` for a loop that cannot be replayed (nothing saved or loaded)."""

    def __init__(self, steps: int, state: LoopState, checkpoint: CheckpointFile | None) -> None:
        self.steps = steps
        self.state = state
        self.checkpoint = checkpoint
        self._start: int | None = None

    def resume(self) -> int:
        """Load the last finished step's checkpoint into the state, once; the first step
        still to run (0 when nothing finished). Call it early when what a program sends
        before its steps depends on whether it resumed."""
        if self._start is None:
            saved = None if self.checkpoint is None else self.checkpoint.read(self.steps)
            if saved is not None:
                self.state.load_state(saved.values)
            self._start = 0 if saved is None else saved.step + 1
        return self._start

    def run(
        self,
        step: Callable[[int], _R],
        after: Callable[[int, _R], None] = _nothing,
        stop: Callable[[int], bool] = _never,
    ) -> int:
        """Run the remaining steps; the number of steps finished when it ends."""
        start = self.resume()
        if start and stop(start - 1):
            return start
        for k in range(start, self.steps):
            outcome = step(k)
            after(k, outcome)
            if self.checkpoint is not None:
                self.checkpoint.write(k, self.steps, self.state.state())
            self._start = k + 1
            if stop(k):
                return k + 1
        return self.steps


def reporting(ctx: PartyContext, phase: str, steps: int) -> Callable[[int, dict[str, float]], None]:
    """The `after` hook of a loop that reports each step's record and how far it got."""

    def report(step: int, record: dict[str, float]) -> None:
        ctx.report(EpochReport(step, record))
        ctx.report(Progress(phase, step + 1, steps))

    return report
