"""benchmarks/horizontal.py's vfl side on a small synthetic twin, so the benchmark cannot
rot between the runs that measure it: data preparation, the job it writes, one short
simulate, the test-AUC scoring, and the arrays the Flower side would train on (no Flower
here, no timing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.horizontal_data import (
    LABEL,
    Settings,
    credit,
    flower_arrays,
    global_auc,
    holdout,
    split,
    write_job,
)
from vfl.api import simulate

SETTINGS = Settings(parties=3, rounds=2, hidden=(8,), batch_size=32)


def test_the_benchmarks_vfl_side_runs_and_gives_flower_the_same_rows(tmp_path: Path) -> None:
    frame, source = credit(None, 600)
    assert source.startswith("synthetic") and frame.shape == (600, 24)
    rest, test = holdout(frame, SETTINGS.test_fraction)
    assert len(test) == 120 and 0.05 < test[LABEL].mean() < 0.5
    for kind in ("iid", "dirichlet"):
        parties = split(rest, kind, SETTINGS)
        assert sum(len(p) for p in parties) == len(rest)

    parties = split(rest, "dirichlet", SETTINGS)
    spec = write_job(tmp_path, parties, SETTINGS, True, "smoke")
    result = simulate(spec, workdir=tmp_path / "run")
    assert result.status == "succeeded", result.error
    assert sum(b["sent"] for b in result.bytes.values()) > 0
    with np.load(tmp_path / "run" / "coordinator" / "model" / "weights.npz") as model:
        params, mean, scale = model["params"], model["mean"], model["scale"]
    assert 0.0 <= global_auc(params, mean, scale, test, SETTINGS.hidden) <= 1.0

    arrays = flower_arrays(spec)
    trained = sum(len(arrays[f"y{i}"]) for i in range(SETTINGS.parties))
    held = sum(max(1, round(len(p) * SETTINGS.validation_fraction)) for p in parties)
    assert trained == len(rest) - held  # the rows vfl's parties train on, no more
    assert arrays["init"].size == params.size
    # the scaling Flower's clients get is the one vfl's secure sum computed (to 2^-10)
    assert np.allclose(arrays["mean"], mean, atol=1e-2)
    assert np.allclose(arrays["scale"], scale, rtol=1e-2)
