"""The PSI worker pool never imports the user's `__main__`.

multiprocessing's spawn and forkserver children re-import the parent's main module by its
path: a script without `if __name__ == "__main__":` ran again in every worker (and its
own pool start failed there with multiprocessing's bootstrapping error).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import pytest

from psi.ecdh.group import POINT_BYTES, blind
from psi.parallel import GroupPool
from vfl.errors import ProtocolError

ROOT = Path(__file__).resolve().parents[3]

UNGUARDED = textwrap.dedent(
    """\
    # A user's script: no `if __name__ == "__main__":` guard, a PSI pool of 2 workers.
    from functools import partial

    from psi.ecdh.group import hash_and_blind
    from psi.parallel import GroupPool

    print("SCRIPT BODY", flush=True)
    chunks = [[f"id-{i}-{k}" for i in range(50)] for k in range(6)]
    with GroupPool(2) as pool:
        out = list(pool.map(partial(hash_and_blind, scalar=bytes(range(1, 33))), chunks))
    print("BLINDED", sum(len(o) for o in out) // 32, flush=True)
    """
)


def test_an_unguarded_script_runs_once_with_a_psi_pool(tmp_path: Path) -> None:
    script = tmp_path / "align.py"
    script.write_text(UNGUARDED)
    done = subprocess.run(
        [sys.executable, str(script)],
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("SCRIPT BODY") == 1, done.stdout  # not again in each worker
    assert "BLINDED 300" in done.stdout


def test_a_peers_bad_points_fail_in_a_worker_as_the_protocol_error_they_are() -> None:
    # two tasks, so they run in the worker subprocesses rather than inline
    bad = [b"\x01" * (POINT_BYTES + 5), b"\x01" * 7]
    with GroupPool(2) as pool, pytest.raises(ProtocolError, match="whole number of points"):
        list(pool.map(partial(blind, scalar=bytes(range(1, 33))), bad))
