"""Live progress and the closing summary table, drawn with rich on stderr/stdout."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from vfl.result import JobResult
from vfl.runtime.events import AlignReport, EpochReport, Event
from vfl.runtime.events import Progress as ProgressEvent


class ProgressReporter:
    """A Reporter that draws one bar per phase; silent when stderr is not a terminal."""

    def __init__(self, total_epochs: int, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._bar = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=self._console,
            transient=False,
            disable=not self._console.is_terminal,
        )
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskID] = {}
        self._total_epochs = total_epochs

    def __enter__(self) -> ProgressReporter:
        self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def _task(self, phase: str, total: int) -> TaskID:
        if phase not in self._tasks:
            self._tasks[phase] = self._bar.add_task(phase, total=total, detail="")
        return self._tasks[phase]

    def report(self, party: str, event: Event) -> None:
        with self._lock:
            if isinstance(event, AlignReport):
                task = self._task("align", 1)
                self._bar.update(task, completed=1, detail=f"{event.intersection_size} shared")
            elif isinstance(event, ProgressEvent):
                task = self._task(event.phase, event.total)
                self._bar.update(task, completed=event.done, total=event.total)
            elif isinstance(event, EpochReport):
                task = self._task("train", self._total_epochs)
                detail = "  ".join(f"{k}={v:.4f}" for k, v in event.values.items() if "loss" in k)
                self._bar.update(task, detail=detail)


def print_summary(result: JobResult, console: Console | None = None) -> None:
    console = console or Console()
    title = f"{result.job} ({result.job_id}): {result.status}"
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    splits = [s for s in ("train", "validation", "predict") if s in result.metrics]
    for split in splits:
        table.add_column(split, justify="right")
    names = sorted({k for s in splits for k in result.metrics[s]})
    for name in names:
        table.add_row(name, *[_fmt(result.metrics[s].get(name)) for s in splits])
    console.print(table)
    if result.align:
        console.print(
            f"aligned rows: {result.align.get('intersection_size')} "
            f"({result.align.get('protocol')}); party rows: {result.align.get('party_rows')}"
        )
    timings = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
    console.print(f"seconds: {timings}")
    sent = ", ".join(f"{p} {b['sent'] / 1e6:.2f} MB" for p, b in result.bytes.items())
    console.print(f"sent: {sent}")
    for party, files in result.outputs.items():  # at that party only (transfer predictions)
        for name, path in files.items():
            console.print(f"{name} at {party}: {path}")
    if result.privacy.label_dp is not None:
        spent = ", ".join(f"{p} {e:.3g}" for p, e in result.privacy.epsilon.items())
        delta = result.privacy.label_dp["delta"]
        console.print(f"label-DP ε spent (δ = {delta:g}): {spent}")
    if result.error:
        console.print(f"[red]error: {result.error}[/red]")


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
