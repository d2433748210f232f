"""Run a command and measure its whole process tree: wall time and peak memory.

`getrusage(RUSAGE_CHILDREN)` gives the largest single descendant's peak, and never resets
between runs; Flower's simulation is a driver plus Ray's GCS, raylet and worker processes,
alive at once. So a thread samples the tree every `interval` seconds and sums each
process's PSS (proportional set size, /proc/PID/smaps_rollup): shared libraries and Ray's
shared-memory object store count once across the tree, not once per process as RSS would.
Linux only; a sample can miss a peak shorter than the interval.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class TreeRun:
    """What one command did."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_bytes: int
    """The largest Σ PSS over the tree among the samples."""


def run_measured(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float, interval: float = 0.25
) -> TreeRun:
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(interval):
            peak = max(peak, tree_pss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        done.set()
        sampler.join()
        if proc.poll() is None:
            proc.kill()
    return TreeRun(proc.returncode, stdout, stderr, time.perf_counter() - start, peak)


def tree_pss(root: int) -> int:
    """Σ PSS in bytes of `root` and all its descendants now (0 once they are gone)."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the command name, in parentheses, may itself hold spaces or parentheses
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier.extend(children)
    return sum(_pss(pid) for pid in tree)


def _pss(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
