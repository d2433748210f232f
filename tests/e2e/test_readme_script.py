"""The README's Python example, run as a new user would: a script with no
`if __name__ == "__main__":` guard, on a job large enough to start the PSI worker pool.

multiprocessing's workers re-imported such a script and ran its job again in each of
them: extra "failed party ...: bootstrapping" results were printed before the real one.
The snippet is read from README.md, so this fails if the README drifts from what works.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import job_dict, synthetic_vertical, write_toml

ROOT = Path(__file__).resolve().parents[2]
ROWS = 20_000


def readme_snippet() -> str:
    """The Python block after "From Python:" in README.md, verbatim."""
    found = re.search(r"From Python:\n```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert found, "README.md has no Python example after 'From Python:'"
    return found.group(1)


def _write_job(folder: Path) -> None:
    """`samples/breast/job.toml` as the snippet names it, with ROWS rows and ECDH-PSI."""
    folder.mkdir(parents=True)
    paths = synthetic_vertical(folder, {"bank": 3, "shop": 3}, rows=ROWS, drop=0.05)
    spec = job_dict(
        {party: Path(path.name) for party, path in paths.items()},
        align={"protocol": "ecdh"},
        train={"epochs": 1, "batch_size": 512},
    )
    write_toml(folder / "job.toml", spec)


@pytest.mark.slow
def test_the_readme_snippet_runs_once_as_an_unguarded_script(tmp_path: Path) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the PSI runs inline and starts no worker pool")
    _write_job(tmp_path / "samples" / "breast")
    script = tmp_path / "example.py"
    snippet = readme_snippet()
    assert "__main__" not in snippet  # the point: a user's plain script
    script.write_text(snippet)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    # one line per print in the snippet: the job ran once, not again in a worker
    assert len(lines) == snippet.count("print("), done.stdout[-3000:]
    assert all(line.startswith("succeeded ") for line in lines), done.stdout[-3000:]
    assert "bootstrapping" not in done.stderr, done.stderr[-3000:]
