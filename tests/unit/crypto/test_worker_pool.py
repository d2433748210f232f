"""The Paillier worker pool: plain subprocesses, so unguarded user scripts are safe.

multiprocessing's spawn re-imports the parent's `__main__` in every worker; a script
without `if __name__ == "__main__":` then starts training again in each of them and
crashes. The pool's workers are `python -m vfl.crypto.worker` and import nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vfl.crypto import kernels, worker
from vfl.crypto.engine import PaillierEngine
from vfl.crypto.testing import insecure_keypair
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import CryptoError

ROOT = Path(__file__).resolve().parents[3]

UNGUARDED = textwrap.dedent(
    """\
    # A user's script: no `if __name__ == "__main__":` guard, Paillier with 2 workers.
    from pathlib import Path
    from tests.factories import job_dict, job_spec, synthetic_vertical
    from tests.unit.split_paillier.harness import run_job

    here = Path(__file__).parent
    paths = synthetic_vertical(here, {"bank": 3, "shop": 4}, rows=60)
    train = {"protection": "paillier", "workers": 2, "epochs": 1, "validation_fraction": 0.0}
    run = run_job(job_spec(job_dict(paths, train=train)), here / "work")
    print("TRAINED", len(run.losses), flush=True)
    """
)


def test_unguarded_script_trains_with_a_worker_pool(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(UNGUARDED)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert out.count("TRAINED") == 1, out  # the script body ran once, not once per worker
    assert "TRAINED 2" in out  # 60 rows, batches of 32


def test_worker_errors_come_back_as_crypto_errors() -> None:
    pool = WorkerPool(2)
    try:
        with pytest.raises(CryptoError, match="worker task failed"):
            pool.submit(kernels.djn_chunk, 1, 2, 3, "not alphas").result(timeout=30)
        keys = insecure_keypair(512)
        cts = PaillierEngine.owner(keys, WorkerPool(1)).encrypt([4, 5, 6])
        plain = pool.map_split(kernels.decrypt_crt, cts, keys.private.p, keys.private.q)
        assert [int(m) for m in plain] == [4, 5, 6]  # the pool still works
    finally:
        pool.close()


def test_workers_only_run_functions_of_the_crypto_package() -> None:
    with pytest.raises(ValueError, match="outside"):
        worker.resolve("os", "system")
    assert worker.resolve("vfl.crypto.kernels", "decrypt_crt") is kernels.decrypt_crt
