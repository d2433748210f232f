"""100 sample holders with secure aggregation in one simulator process stay within 4 GB
(measured in a fresh interpreter: its peak resident set, not this test process's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
import json, resource, sys
from pathlib import Path
from tests.factories import write_toml
from tests.horizontal_factory import horizontal_dict, synthetic_horizontal
from vfl.api import simulate
tmp = Path(sys.argv[1])
paths = synthetic_horizontal(tmp / "data", parties=100, rows=100, width=10)
spec = horizontal_dict(paths, train={"rounds": 2, "timeout_s": 600, "round_timeout_s": 300})
result = simulate(write_toml(tmp / "job.toml", spec), workdir=tmp / "run")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"status": result.status, "error": result.error, "peak_mb": peak,
                  "parties": [h["parties"] for h in result.history]}))
"""


def test_a_hundred_parties_with_secure_aggregation_fit_in_four_gigabytes(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    assert run["status"] == "succeeded", run["error"]
    assert run["parties"] == [100.0, 100.0]
    print(f"100 parties, 2 secure rounds: peak {run['peak_mb']:.0f} MB")
    assert run["peak_mb"] < 4096
